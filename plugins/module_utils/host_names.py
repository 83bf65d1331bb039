"""Host names and remote logins as nasops accepts them, in one place for both sides.

The spec's grammars (nasops.spec.grammars), the inventory's QTS values (nasops.qts) and
the exporter's configuration on the NAS (nasops.exporter.config, which must not import the
spec) all check a host and a login with these.
"""

from __future__ import annotations

import ipaddress
import re

# Underscores too: ssh_config aliases (Host offsite_nas) are names ssh resolves.
HOST_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
HOST_NAME = re.compile(rf"^{HOST_LABEL}(?:\.{HOST_LABEL})*\Z")
# A login on another machine (an SFTP repository's user, the QTS account nasops uses).
REMOTE_USER_TEXT = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}"
# \Z, not $: Python's $ also matches before a final newline ("admin\n").
REMOTE_USER = re.compile(rf"^{REMOTE_USER_TEXT}\Z")


def is_host(host: str) -> bool:
    """Given text, return whether it is an IP address or a host name (labels of letters,
    digits, '-' and '_', 1 to 63 each, '.' between them): nothing else reaches a socket."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and bool(HOST_NAME.match(host))
    return True

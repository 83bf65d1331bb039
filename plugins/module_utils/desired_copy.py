"""The NAS's copy of the desired state its folder trees were last converged to.

The drift check (`nasops-drift-check.service`, installed by nas_exporter) compares every
share's tree and ACLs with this copy between applies. nasops.nas.tree writes it at the end
of a real run that converged every share, from the very file it converged from: the copy
then changes exactly when the trees' desired state does, and no other role needs to carry
megabytes of folders for it.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess

from ansible_collections.nasops.nas.plugins.module_utils.host_files import write_atomically

DESIRED_COPY = "/etc/nasops/desired.json"
DRIFT_CHECK_UNIT = "nasops-drift-check.service"
DRIFT_CHECK_UNIT_FILE = "/etc/systemd/system/" + DRIFT_CHECK_UNIT


def read_document(path: str) -> tuple[bytes, object]:
    """Given a JSON file (gzip-compressed when its name ends in .gz), return its bytes
    (uncompressed) and its parsed content."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    return raw, json.loads(raw.decode("utf-8"))


def copy_content(raw: bytes | None, document: object) -> bytes:
    """Given the desired state as the module read it (its bytes when it came as a file, and
    the parsed document or shares list), return the bytes the copy holds: the file as it is
    when it is a whole desired state (`nasops apply`'s), else the shares under `shares`."""
    if raw is not None and isinstance(document, dict):
        return raw
    shares = document.get("shares") if isinstance(document, dict) else document
    return json.dumps({"shares": shares}, ensure_ascii=False, sort_keys=True).encode("utf-8")


def is_current(path: str, content: bytes) -> bool:
    """Tell whether the copy at path is a regular file of root's, 0600, holding exactly
    content (a missing file is not; one made readable by others is rewritten: personal
    data)."""
    try:
        status = os.lstat(path)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != 0 \
                or stat.S_IMODE(status.st_mode) != 0o600 or status.st_size != len(content):
            return False
        with open(path, "rb") as stream:
            return stream.read() == content
    except OSError:
        return False


def write_copy(path: str, content: bytes) -> None:
    """Replace the copy at path with content, atomically, readable by root only (names and
    memberships are personal data)."""
    write_atomically(path, content, 0o600)


def start_drift_check() -> str | None:
    """Start the drift check in the background when it is installed, so that its record
    (and the exporter's drift alert) follows a change of the trees at once instead of at its
    next timer run; return a warning when systemd refused. A restart: a check already
    running (its timer fired meanwhile) read the old copy or half-converged trees, and a
    start would only join it; the check is read-only, so stopping it loses nothing."""
    if not os.path.exists(DRIFT_CHECK_UNIT_FILE):
        return None
    done = subprocess.run(["systemctl", "restart", "--no-block", DRIFT_CHECK_UNIT],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        return (f"could not start {DRIFT_CHECK_UNIT} after the change: "
                f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return None

"""Where and as whom nasops reaches each QTS host of an inventory (issue 15, docs/qts.md).

Inventory variables of a `nasops_platform: qts` host: `ansible_host` (else the host's name),
`nasops_qts_port` (443), `nasops_qts_certificate_sha256` (required: the NAS's certificate
pin), `nasops_qts_user` (admin), and for the folders `nasops_qts_ssh_*` (nasops.qts.ssh).
The password is the secrets file's `nasops_qts_password`
(the file may be ansible-vault encrypted), never an option or a variable in the inventory.
Every value is checked to a strict grammar before anything connects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ansible_collections.nasops.nas.plugins.module_utils.host_names import REMOTE_USER, is_host
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from nasops.ansible.inventory import (
    TargetHost,
    inventory_base,
    is_vault_file,
    list_inventory,
    target_hosts,
)
from nasops.errors import BadInputError
from nasops.execute import MASKER
from nasops.provision.secrets import USER_PASSWORDS, load_secrets_file
from nasops.qts.session import Endpoint
from nasops.qts.ssh import ssh_endpoint_of

PORT_VARIABLE = "nasops_qts_port"
CERTIFICATE_VARIABLE = "nasops_qts_certificate_sha256"
USER_VARIABLE = "nasops_qts_user"
PASSWORD_KEY = "nasops_qts_password"  # noqa: S105 - the key, not a password
# The login nasops logs in with: the grammar of a remote account (spec.grammars), within
# QTS's own rule (1-32 characters, none of ` * = + [ ] { } \ | ; : ' " , < > / ? % $ or a
# space; QTS 5.0 "Creating a Local User").
QTS_LOGIN = REMOTE_USER
HOW_TO_PIN = ("on the NAS itself (its console, or a machine you trust on the same switch): "
              "openssl s_client -connect ADDRESS:443 </dev/null | openssl x509 -noout "
              "-fingerprint -sha256")


def certificate_pin(value: Any, host: str) -> str:
    """Given nasops_qts_certificate_sha256 as written (hex, colons allowed), return it as
    64 lowercase hex digits; raise BadInputError naming the host otherwise."""
    text = value.replace(":", "").strip().lower() if isinstance(value, str) else ""
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise BadInputError(f"inventory host {host}: {CERTIFICATE_VARIABLE} must be the "
                            "sha256 of the NAS's certificate (64 hex digits, colons "
                            f"allowed); get it {HOW_TO_PIN}")
    return text


def endpoint_of(host: str, variables: Mapping[str, Any]) -> Endpoint:
    """Given a host's name and inventory variables, return its checked Endpoint."""
    problems: list[str] = []
    address = variables.get("ansible_host", host)
    if not isinstance(address, str) or not is_host(address):
        where = "ansible_host" if "ansible_host" in variables else \
            "the host's name (no ansible_host)"
        problems.append(f"{where} must be a host name or an IP address, got {address!r}")
    port = variables.get(PORT_VARIABLE, 443)
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        problems.append(f"{PORT_VARIABLE} must be a port number (1 to 65535), got {port!r}")
    user = variables.get(USER_VARIABLE, "admin")
    if not isinstance(user, str) or not QTS_LOGIN.match(user):
        problems.append(f"{USER_VARIABLE} must be a QTS login (letters, digits, '.', '-', "
                        f"'_', at most 32 characters), got {user!r}")
    if problems:
        raise BadInputError("\n".join(f"inventory host {host}: {problem}"
                                      for problem in problems))
    pin = certificate_pin(variables.get(CERTIFICATE_VARIABLE), host)
    return Endpoint(host=str(address), port=int(port), certificate_sha256=pin, user=str(user),
                    ssh=ssh_endpoint_of(host, str(address), variables))


def qts_hosts(inventory: str, *, limit: str | None, vault_password_file: str | None,
              environment: Mapping[str, str] | None = None,
              ) -> list[tuple[TargetHost, Endpoint]]:
    """Given the -i, --limit and vault options, return each targeted QTS host with its
    endpoint; raise BadInputError when none is a QTS host or a value is wrong."""
    data = list_inventory(inventory, limit=limit, vault_password_file=vault_password_file,
                          environment=environment)
    variables = data.get("_meta", {}).get("hostvars", {})
    targets = [target for target in target_hosts(data, inventory_base(inventory))
               if target.platform == "qts"]
    if not targets:
        raise BadInputError(f"{inventory}: no targeted host has nasops_platform: qts")
    shared = [target.name for target in targets if target.hosted or target.hosting_path]
    if shared:
        raise BadInputError("\n".join(
            f"inventory host {name}: a NAS several organisations share is not built on QTS "
            "(nasops_specs, nasops_hosting): name one spec with nasops_spec" for name in shared))
    return [(target, endpoint_of(target.name, variables.get(target.name, {})))
            for target in targets]


def _decrypt(path: Path, vault_password_file: str | None) -> Any:
    if vault_password_file is None:
        raise BadInputError(f"{path}: encrypted with ansible-vault; pass "
                            "--vault-password-file FILE (or set ANSIBLE_VAULT_PASSWORD_FILE)")
    # Ansible's own loader: a password file may also be a script, as for ansible-playbook.
    from ansible.errors import AnsibleError  # type: ignore[import-untyped]  # noqa: PLC0415
    from ansible.parsing.dataloader import (  # type: ignore[import-untyped]  # noqa: PLC0415
        DataLoader,
    )
    from ansible.parsing.vault import (  # type: ignore[import-untyped]  # noqa: PLC0415
        VaultLib,
        get_file_vault_secret,
    )

    try:
        secret = get_file_vault_secret(filename=vault_password_file, loader=DataLoader())
        secret.load()
        plain = VaultLib([("default", secret)]).decrypt(path.read_bytes())
    except AnsibleError:
        raise BadInputError(f"{path}: could not be decrypted with the vault password "
                            "given") from None
    try:
        return YAML(typ="safe", pure=True).load(plain)
    except YAMLError:
        raise BadInputError(f"{path}: not YAML once decrypted") from None


def qts_secrets(target: TargetHost, vault_password_file: str | None) -> dict[str, Any]:
    """Given a QTS host, return its secrets file's data (decrypted when ansible-vault
    encrypted); raise BadInputError saying what to write where when it is missing."""
    path = target.secrets_path
    if path is None or not path.is_file():
        raise BadInputError(f"inventory host {target.name}: the QTS password is read from "
                            "the secrets file (nasops_secrets_file), which "
                            f"{'is not named' if path is None else f'{path} does not exist'}")
    data = load_secrets_file(path)
    if data is None and is_vault_file(path):
        data = _decrypt(path, vault_password_file)
    return data if isinstance(data, dict) else {}


def qts_password(target: TargetHost, data: Mapping[str, Any]) -> str:
    """Given a QTS host and its secrets, return its admin password (registered with the
    masker); raise BadInputError saying what to write where when it is missing."""
    path = target.secrets_path
    value = data.get(PASSWORD_KEY)
    if value is not None and not isinstance(value, str):
        raise BadInputError(f"{path}: {PASSWORD_KEY} must be text: put it in quotes "
                            "(a password of digits alone is read as a number)")
    if not value:
        raise BadInputError(f"{path}: no {PASSWORD_KEY} (the password of the QTS account "
                            f"nasops logs in with, for host {target.name})")
    _check_text(path, PASSWORD_KEY, value)
    MASKER.add(value)
    return value


def _check_text(path: Path | None, key: str, value: str) -> None:
    """Refuse a value that is no text QTS can be sent (a lone surrogate YAML lets through)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInputError(f"{path}: {key} holds a character that is not text (a broken "
                            "\\u escape?); write it again; nothing was sent") from None


def user_passwords(target: TargetHost, data: Mapping[str, Any],
                   logins: Sequence[str]) -> dict[str, str]:
    """Given a QTS host, its secrets and the spec's logins, return each login's password
    (registered with the masker); raise BadInputError naming every login without one."""
    given = data.get(USER_PASSWORDS)
    given = given if isinstance(given, dict) else {}
    numbers = [login for login in logins
               if given.get(login) is not None and not isinstance(given[login], str)]
    if numbers:
        raise BadInputError(f"{target.secrets_path}: {USER_PASSWORDS}: the passwords of "
                            f"{', '.join(numbers)} must be text: put them in quotes (a "
                            "password of digits alone is read as a number); nothing was sent")
    missing = [login for login in logins if not given.get(login)]
    if missing:
        raise BadInputError(f"{target.secrets_path}: no password for {', '.join(missing)} in "
                            f"{USER_PASSWORDS}: run `nasops secrets init -i INVENTORY` "
                            "(it adds only what is missing); nothing was sent to the NAS")
    passwords = {login: str(given[login]) for login in logins}
    for login, password in passwords.items():
        _check_text(target.secrets_path, f"{USER_PASSWORDS}.{login}", password)
    MASKER.add(*passwords.values())
    return passwords

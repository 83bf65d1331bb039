"""Read the user's Ansible inventory: which NAS hosts are targeted, and their spec and secrets.

The inventory is read through `ansible-inventory --list` so that every format Ansible accepts
(YAML, INI, directories, plugins) works the same here as in the playbook run. `--limit` is
handed to ansible-inventory itself, so host patterns have exactly Ansible's semantics.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasops.ansible.tools import ansible_tool
from nasops.errors import BadInputError
from nasops.execute import run_command
from nasops.spec.input_file import refuse_special_file

# The group site.yml targets (docs/provisioning-contract.md).
NAS_GROUP = "nas"
SPEC_VARIABLE = "nasops_spec"
# Several organisations on one NAS (a shared NAS): one spec each (docs/shared-hosting.md).
SPECS_VARIABLE = "nasops_specs"
# The provider's hosting file of a shared NAS: shared shares, per-organisation limits.
HOSTING_VARIABLE = "nasops_hosting"
SECRETS_VARIABLE = "nasops_secrets_file"
# What the NAS runs (docs/qts.md): Debian (the default) or QNAP's QTS.
PLATFORM_VARIABLE = "nasops_platform"
PLATFORMS = ("debian", "qts")
VAULT_HEADER = b"$ANSIBLE_VAULT;"


@dataclass(frozen=True)
class TargetHost:
    """One NAS host of the inventory with the files nasops needs for it."""

    name: str
    spec_path: Path
    secrets_path: Path | None
    """Absolute path of the secrets file, or None when the inventory names none."""
    other_spec_paths: tuple[Path, ...] = ()
    """The specs after the first of a host that names several (`nasops_specs`)."""
    hosting_path: Path | None = None
    """The provider's hosting file of a shared NAS (`nasops_hosting`), if any."""
    hosted: bool = False
    """True when the inventory names the host's specs with `nasops_specs`: they are checked
    together and compiled into one state (nasops.compile.host)."""
    platform: str = "debian"
    """`nasops_platform`: debian, or qts (checked against what QTS can do, read by nasops.qts;
    nothing written to it yet)."""

    @property
    def spec_paths(self) -> list[Path]:
        """Every spec of the host, in the inventory's order."""
        return [self.spec_path, *self.other_spec_paths]


def is_vault_file(path: Path) -> bool:
    """Given a file path, return whether the whole file is ansible-vault encrypted."""
    with path.open("rb") as stream:
        return stream.read(len(VAULT_HEADER)) == VAULT_HEADER


def inventory_base(inventory: str) -> Path:
    """Given the -i argument, return the directory relative variable paths are resolved in.

    For a file that is its directory; for an inventory directory the directory itself; for
    an inline host list ("host1,host2") the current directory.
    """
    path = Path(inventory).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.exists():
        return path.resolve().parent
    return Path.cwd()


def list_inventory(
    inventory: str,
    *,
    limit: str | None = None,
    vault_password_file: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Given an inventory path and optional --limit, return `ansible-inventory --list` data."""
    if "," not in inventory and not Path(inventory).expanduser().exists():
        raise BadInputError(f"{inventory}: no such inventory file or directory")
    if "," not in inventory:
        # ansible-inventory would wait forever on a FIFO and read /dev/zero without end.
        refuse_special_file(Path(inventory).expanduser(), "inventory")
    argv = [ansible_tool("ansible-inventory"), "-i", inventory, "--list"]
    if limit:
        argv += ["--limit", limit]
    if vault_password_file:
        argv += ["--vault-password-file", vault_password_file]
    result = run_command(argv, environment=environment, accepted_codes=range(256))
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BadInputError(f"{inventory}: ansible-inventory could not read it: {detail}")
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise BadInputError(f"{inventory}: ansible-inventory printed no JSON ({error})") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{inventory}: ansible-inventory printed an unexpected document")
    return data


def group_hosts(data: Mapping[str, Any], group: str) -> list[str]:
    """Given `ansible-inventory --list` data, return the hosts of group and its children."""
    found: list[str] = []
    pending, seen = [group], set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        entry = data.get(name) or {}
        found += [host for host in entry.get("hosts", []) if host not in found]
        pending += list(entry.get("children", []))
    return found


def _resolve(base: Path, value: Any, host: str, variable: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"inventory host {host}: {variable} must be a file path, "
                            f"got {value!r}")
    return (base / os.path.expanduser(value.strip())).resolve()


def target_hosts(
    data: Mapping[str, Any],
    base: Path,
    *,
    spec_override: str | None = None,
    group: str = NAS_GROUP,
) -> list[TargetHost]:
    """Given inventory data, its base directory and an optional --spec, return the targets.

    Every host of `group` is targeted; `nasops_spec` (relative to base) names its spec unless
    spec_override replaces it for all of them, or `nasops_specs` its organisations' specs
    (and `nasops_hosting` the provider's hosting file). Raise BadInputError listing every
    host that lacks its spec variable, or when no host is targeted.
    """
    host_variables: Mapping[str, Any] = data.get("_meta", {}).get("hostvars", {})
    if spec_override is not None:
        several = [name for name in group_hosts(data, group)
                   if SPECS_VARIABLE in host_variables.get(name, {})]
        if several:
            # --spec replaces the one spec of a host; it cannot stand for several.
            raise BadInputError("\n".join(
                f"inventory host {name}: hosts several organisations ({SPECS_VARIABLE}); "
                "--spec replaces the spec of a host that has one: leave it out (or use "
                "--limit to pick other hosts)" for name in several))
        override = [Path(spec_override).expanduser().resolve()]
        found = {name: override for name in group_hosts(data, group)}
        if not found:
            host_spec_paths(data, base, group)  # raises: no host targeted
    else:
        found = host_spec_paths(data, base, group)
    hosting = host_hosting_paths(data, base, group)
    platforms = host_platforms(data, group)
    targets: list[TargetHost] = []
    for name, paths in found.items():
        variables = host_variables.get(name, {})
        secrets = variables.get(SECRETS_VARIABLE)
        secrets_path = _resolve(base, secrets, name, SECRETS_VARIABLE) if secrets else None
        targets.append(TargetHost(name, paths[0], secrets_path, tuple(paths[1:]),
                                  hosting.get(name), SPECS_VARIABLE in variables,
                                  platforms[name]))
    return targets


def host_spec_paths(data: Mapping[str, Any], base: Path,
                    group: str = NAS_GROUP) -> dict[str, list[Path]]:
    """Given inventory data and its base directory, return each NAS host's spec files:
    those of `nasops_specs` (several organisations) or the one of `nasops_spec`. Raise
    BadInputError listing every host that names none, both, or one file twice."""
    names = group_hosts(data, group)
    if not names:
        raise BadInputError(f"no host of group '{group}' in the inventory"
                            " (or none matches --limit); the playbook only targets that group")
    host_variables: Mapping[str, Any] = data.get("_meta", {}).get("hostvars", {})
    found: dict[str, list[Path]] = {}
    problems: list[str] = []
    for name in names:
        variables = host_variables.get(name, {})
        if SPECS_VARIABLE in variables and SPEC_VARIABLE in variables:
            problems.append(f"inventory host {name}: set {SPEC_VARIABLE} (one organisation) "
                            f"or {SPECS_VARIABLE} (several), not both")
        elif SPECS_VARIABLE in variables:
            listed = variables[SPECS_VARIABLE]
            if not isinstance(listed, list) or not listed:
                problems.append(f"inventory host {name}: {SPECS_VARIABLE} must be a list of "
                                f"spec files, got {listed!r}")
                continue
            wrong = [index for index, item in enumerate(listed)
                     if not isinstance(item, str) or not item.strip()]
            if wrong:
                problems += [f"inventory host {name}: {SPECS_VARIABLE}[{index}] must be a "
                             f"spec file path, got {listed[index]!r}" for index in wrong]
                continue
            paths = [_resolve(base, item, name, SPECS_VARIABLE) for item in listed]
            twice = sorted({str(path) for path in paths if paths.count(path) > 1})
            if twice:
                problems.append(f"inventory host {name}: {SPECS_VARIABLE} lists "
                                f"{', '.join(twice)} more than once")
            found[name] = list(dict.fromkeys(paths))
        elif SPEC_VARIABLE in variables:
            found[name] = [_resolve(base, variables[SPEC_VARIABLE], name, SPEC_VARIABLE)]
            if HOSTING_VARIABLE in variables:
                problems.append(f"inventory host {name}: {HOSTING_VARIABLE} is for a NAS that "
                                f"hosts several organisations ({SPECS_VARIABLE})")
        else:
            problems.append(f"inventory host {name}: missing variable {SPEC_VARIABLE} (the "
                            f"spec file, relative to the inventory; or {SPECS_VARIABLE}, "
                            "several organisations' specs); set it or pass --spec")
    if problems:
        raise BadInputError("\n".join(problems))
    return found


def host_platforms(data: Mapping[str, Any], group: str = NAS_GROUP) -> dict[str, str]:
    """Given inventory data, return each NAS host's platform (`nasops_platform`, debian when
    unset). Raise BadInputError naming every host with another value."""
    host_variables: Mapping[str, Any] = data.get("_meta", {}).get("hostvars", {})
    found = {name: host_variables.get(name, {}).get(PLATFORM_VARIABLE, "debian")
             for name in group_hosts(data, group)}
    wrong = [f"inventory host {name}: {PLATFORM_VARIABLE} must be one of "
             f"{', '.join(PLATFORMS)}, got {value!r}"
             for name, value in found.items() if value not in PLATFORMS]
    if wrong:
        raise BadInputError("\n".join(wrong))
    return found


def host_hosting_paths(data: Mapping[str, Any], base: Path,
                       group: str = NAS_GROUP) -> dict[str, Path]:
    """Given inventory data and its base directory, return the hosting file of each NAS host
    that names one (`nasops_hosting`)."""
    host_variables: Mapping[str, Any] = data.get("_meta", {}).get("hostvars", {})
    return {name: _resolve(base, host_variables[name][HOSTING_VARIABLE], name,
                           HOSTING_VARIABLE)
            for name in group_hosts(data, group)
            if HOSTING_VARIABLE in host_variables.get(name, {})}


def read_targets(
    inventory: str,
    *,
    limit: str | None = None,
    spec_override: str | None = None,
    vault_password_file: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> list[TargetHost]:
    """Given the -i, --limit, --spec and vault options, return the targeted NAS hosts."""
    data = list_inventory(inventory, limit=limit, vault_password_file=vault_password_file,
                          environment=environment)
    return target_hosts(data, inventory_base(inventory), spec_override=spec_override)


def require_secrets(targets: Sequence[TargetHost]) -> None:
    """Given targets, raise BadInputError naming every host without a usable secrets file."""
    problems = []
    for target in targets:
        if target.secrets_path is None:
            problems.append(f"inventory host {target.name}: missing variable {SECRETS_VARIABLE}"
                            " (the secrets file, relative to the inventory)")
        elif not target.secrets_path.is_file():
            problems.append(f"inventory host {target.name}: secrets file "
                            f"{target.secrets_path} does not exist; create it with "
                            "`nasops secrets init -i INVENTORY`")
    if problems:
        raise BadInputError("\n".join(problems))


def require_vault_password(targets: Sequence[TargetHost], vault_password_file: str | None,
                           environment: Mapping[str, str] | None = None) -> None:
    """Given targets, raise BadInputError if a secrets file is vault-encrypted but no vault
    password is configured (the failing task would only say "output hidden by no_log")."""
    environment = os.environ if environment is None else environment
    if vault_password_file or environment.get("ANSIBLE_VAULT_IDENTITY_LIST"):
        return
    encrypted = [target for target in targets if target.secrets_path is not None
                 and target.secrets_path.is_file() and is_vault_file(target.secrets_path)]
    if encrypted:
        files = ", ".join(sorted({str(target.secrets_path) for target in encrypted}))
        raise BadInputError(f"{files}: encrypted with ansible-vault; pass "
                            "--vault-password-file FILE (or set ANSIBLE_VAULT_PASSWORD_FILE)")

"""`nasops validate -i INVENTORY`: every spec of every NAS, and the specs a NAS hosts checked
together (nasops.spec.hosting), all problems at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasops.ansible import ansible_environment, project_root
from nasops.ansible.inventory import (
    host_hosting_paths,
    host_platforms,
    host_spec_paths,
    inventory_base,
    list_inventory,
)
from nasops.errors import BadInputError, Problem, SpecError


@dataclass
class HostedValidation:
    """What `validate -i` found valid: per NAS, its organisations' ids and counts."""

    hosts: dict[str, list[str]] = field(default_factory=dict)
    paths: dict[str, list[Path]] = field(default_factory=dict)
    """Each NAS's spec files, in the inventory's order."""
    specs: dict[str, list[Any]] = field(default_factory=dict)
    """Each NAS's loaded specs (nasops.spec.LoadedSpec), as they were checked together."""
    shared: dict[str, Any] = field(default_factory=dict)
    """Each NAS's shared shares (the stand-in spec of its hosting file), if it has one."""
    platforms: dict[str, str] = field(default_factory=dict)
    """Each NAS's platform (`nasops_platform`)."""
    warnings: list[Problem] = field(default_factory=list)


def check_together(name: str, paths: list[Path], loaded: dict[Path, Any],
                   hosting_path: Path | None) -> tuple[list[Any], Any, list[Problem],
                                                       list[str], list[Problem]]:
    """Given a NAS host, its spec files, the specs loaded so far (by path) and its hosting
    file, load the hosting file and check the specs together; return the host's loaded
    specs, its hosting file (or None), the problems (errors and warnings), the one-line
    messages of unreadable files and the hosting file's warnings."""
    from nasops.spec.hosting import check_hosted  # noqa: PLC0415
    from nasops.spec.hosting_file import load_hosting  # noqa: PLC0415

    specs = [loaded[path] for path in paths if path in loaded]
    problems: list[Problem] = []
    messages: list[str] = []
    warnings: list[Problem] = []
    hosting = None
    if hosting_path is not None:
        # Checked even when a spec of the NAS did not load: every problem in one run.
        try:
            hosting = load_hosting(hosting_path, specs,
                                   missing_organisations=len(specs) < len(paths))
        except SpecError as error:
            problems += error.problems
        except BadInputError as error:
            messages.append(f"inventory host {name}: {error}")
        else:
            warnings += hosting.warnings
    # One organisation with a hosting file is checked too: its names against the shared
    # shares'.
    if (len(paths) > 1 or hosting is not None) and specs and len(specs) == len(paths):
        problems += check_hosted(name, specs, hosting)
    return specs, hosting, problems, messages, warnings


def platform_problems(name: str, platform: str, specs: list[Any], paths: list[Path],
                      hosting_path: Path | None) -> tuple[list[Problem], list[str]]:
    """Given a NAS host, its platform, its loaded specs, spec files and hosting file, return
    what its platform cannot do: located problems, and one-line messages for the host."""
    if platform != "qts":
        return [], []
    from nasops.spec.qts import qts_problems  # noqa: PLC0415 - QTS hosts only

    if len(paths) > 1 or hosting_path is not None:
        return [], [f"inventory host {name}: a NAS several organisations share is not built "
                    "on QTS (docs/qts.md): one spec per QTS host (nasops_spec)"]
    return [problem for loaded in specs for problem in qts_problems(loaded)], []


def reach_problems(name: str, platform: str, data: Mapping[str, Any]) -> list[str]:
    """Given a NAS host, its platform and the inventory data, return what is wrong with the
    values saying how nasops reaches it (a QTS host's web and SSH settings); empty for
    Debian hosts (Ansible's own variables)."""
    if platform != "qts":
        return []
    from nasops.qts.connection import CERTIFICATE_VARIABLE, endpoint_of  # noqa: PLC0415

    variables = data.get("_meta", {}).get("hostvars", {}).get(name, {})
    # validate is offline: a pin not written yet is asked for when a command connects (an
    # example inventory has none); a pin written wrong is refused here like every value.
    try:
        endpoint_of(name, {CERTIFICATE_VARIABLE: "0" * 64, **variables})
    except BadInputError as error:
        return [str(error)]
    return []


def validate_inventory(inventory: str, limit: str | None = None) -> HostedValidation:
    """Given an inventory (and --limit), load every spec its NAS hosts name and check the
    specs of each NAS together; raise SpecError with every problem (or BadInputError for an
    unreadable inventory or spec file), else return what was found valid."""
    # Imported here: the spec models are heavy and only this command needs them.
    from nasops.provision.specs import load_spec_files  # noqa: PLC0415

    data = list_inventory(inventory, limit=limit,
                          environment=ansible_environment(project_root()))
    hosts = host_spec_paths(data, inventory_base(inventory))
    hosting_files = host_hosting_paths(data, inventory_base(inventory))
    platforms = host_platforms(data)
    loaded, problems, messages = load_spec_files(hosts)
    result = HostedValidation()
    for name, paths in hosts.items():
        specs, hosting, found, unreadable, warnings = check_together(
            name, paths, loaded, hosting_files.get(name))
        problems += found
        messages += unreadable
        result.warnings += warnings
        refused, host_messages = platform_problems(name, platforms[name], specs, paths,
                                                   hosting_files.get(name))
        problems += refused
        messages += host_messages + reach_problems(name, platforms[name], data)
        result.platforms[name] = platforms[name]
        if hosting is not None:
            result.shared[name] = hosting.shared
        result.hosts[name] = [spec.spec.organization.id for spec in specs]
        result.paths[name] = list(paths)
        result.specs[name] = specs
        result.warnings += [warning for spec in specs for warning in spec.warnings]
    errors = [problem for problem in problems if problem.severity != "warning"]
    result.warnings += [problem for problem in problems if problem.severity == "warning"]
    if messages:
        raise BadInputError("\n".join([*messages, *(problem.format() for problem in errors)]))
    if errors:
        raise SpecError(errors)
    result.warnings = list(dict.fromkeys(result.warnings))
    return result

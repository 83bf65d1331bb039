"""The desired state of a NAS several organisations share: one state, every organisation's.

Each organisation's spec compiles on its own (`compile_spec`, as on a NAS of its own); their
states are then put side by side: their organisations, groups, users and shares listed one
after the other (no name is in two of them: `nasops.spec.hosting.check_hosted` refused
that), the hosting file's shared shares last, under their own directory of the volume. The
roles converge the whole in one run and manage exactly what it lists (issue 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nasops.compile.contract import DesiredState
from nasops.compile.desired import compile_spec
from nasops.spec.hosting_file import LoadedHosting
from nasops.spec.load import LoadedSpec
from nasops.spec.units import parse_size


def nas_name(host: str, only_organisation: str | None, hosting_id: str | None) -> str:
    """The NAS's name for people (the desired state's `organization`): the hosting file's id,
    else the id of the one organisation it hosts (None when several), else the inventory
    host's name."""
    return hosting_id or only_organisation or host


def _sync(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One Syncthing for the NAS, every organisation's devices and folders in it: a folder
    (its ID starts with its organisation's id) is shared with the devices of its own
    organisation's people only, as that organisation's spec alone decides, and no device is in
    two organisations (check_hosted), so a laptop is offered its own organisation's folders
    and nothing else (docs/shared-hosting.md says why one instance). The options are those of
    the organisations with laptops (check_hosted: they say the same)."""
    enabled = [state["sync"] for state in states if state["sync"]["enabled"]]
    if not enabled:
        return dict(states[0]["sync"])
    return {**enabled[0],
            "devices": [device for sync in enabled for device in sync["devices"]],
            "folders": [folder for sync in enabled for folder in sync["folders"]]}


def _backups(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every organisation's repositories side by side, each with its own organisation's
    sources, and the hosting file's (the shared space's, its `organization` the hosting id).
    On a NAS declared as shared (`nasops_specs`, however many, or a hosting file: this
    function's only callers) each repository's name carries its organisation's account prefix
    (`atb-usb`; the shared space's has none): the names of units, password files and metrics
    are then apart, as the accounts' are, and stay the same when another organisation
    arrives. The check and drill timers are the NAS's (check_hosted: the same schedule
    everywhere)."""
    enabled = [state["backup"] for state in states if state["backup"]["enabled"]]
    if not enabled:
        return {"enabled": False}
    prefixes = {organization["id"]: organization["account_prefix"]
                for state in states for organization in state["organizations"]}
    repositories = [
        {**repository, "name": prefixes[repository["organization"]] + repository["name"]}
        for backup in enabled for repository in backup["repositories"]]
    return {**enabled[0], "repositories": repositories}


def compile_host(host: str, specs: Sequence[LoadedSpec],
                 hosting: LoadedHosting | None) -> dict[str, Any]:
    """Given a NAS host's name, its organisations' specs (valid on their own and together)
    and its hosting file if any, return the NAS's desired state as JSON-ready data."""
    states = [compile_spec(loaded.spec) for loaded in specs]
    limits = hosting.hosting.organizations if hosting is not None else {}
    organizations = []
    for state in states:
        for organization in state["organizations"]:
            limit = limits.get(organization["id"])
            quota = parse_size(limit.quota) if limit is not None and limit.quota else None
            organizations.append({**organization, "quota_bytes": quota})
    shared_root, shared_shares, owners = None, [], list(states)
    if hosting is not None and hosting.shared.shares:
        # The stand-in spec's groups and users are the organisations' (by their POSIX names):
        # only its shares and their backups are new here.
        shared = compile_spec(hosting.shared)
        shared_root = shared["organizations"][0]["root"]
        shared_shares = shared["shares"]
        owners.append(shared)
    # The volume and the exporter are the same in every spec (check_hosted).
    first = states[0]
    merged = {
        **first,
        "organization": nas_name(host, first["organization"] if len(states) == 1 else None,
                                 hosting.hosting.id if hosting is not None else None),
        "organizations": organizations,
        "shared_root": shared_root,
        "groups": [group for state in states for group in state["groups"]],
        "users": [user for state in states for user in state["users"]],
        "shares": [share for state in states for share in state["shares"]] + shared_shares,
        "sync": _sync(states),
        "backup": _backups(owners),
    }
    return DesiredState.model_validate(merged).model_dump(mode="json")

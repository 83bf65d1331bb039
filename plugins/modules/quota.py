#!/usr/bin/python
"""Per share: rename in place, make the directory a btrfs subvolume, set its quota, read usage."""

from __future__ import annotations

DOCUMENTATION = r"""
module: quota
short_description: Share directories as btrfs subvolumes with a quota, in one call
description:
  - For every share, in one pass, performs a share rename in place (C(renamed_from) exists and
    C(path) does not), creates a missing share directory (a btrfs subvolume when the volume is
    btrfs), sets or clears its qgroup limit and reports its usage.
  - An existing plain directory is never turned into a subvolume (that would move data); it is
    reported with the warning C(quota not enforced).
  - Refuses, in check mode too and before touching anything, a quota below the current usage,
    a rename whose source and target both exist, and a rename whose source is missing.
  - Directories under any of C(roots) that are no share of the spec are reported as
    C(unmanaged).
version_added: "0.1.0"
author: nasops developers (!UNKNOWN)
options:
  volume:
    description: Mount point of the data volume.
    type: path
    required: true
  roots:
    description: >-
      Directories holding the shares: each organisation's, and on a NAS several
      organisations share, the directory of their shared shares.
    type: list
    elements: path
    required: true
  shares:
    description: Shares (C(name), C(path), C(quota_bytes), C(renamed_from); others ignored).
    type: list
    elements: dict
    required: true
  mode:
    description: Mode of the share directories this module creates (ACLs come later).
    type: raw
    default: "0700"
  enforce:
    description: Fail when the volume is btrfs but its quotas are disabled.
    type: bool
    default: true
  organizations:
    description:
      - Organisations (C(id), C(root), C(quota_bytes)) whose shares together are limited: a
        btrfs level-1 qgroup per organisation holds the qgroups of the shares under its
        C(root). A limit below what the organisation stores is refused.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Create the share directories as subvolumes and limit them
  nasops.nas.quota:
    volume: /srv/nas
    roots: [/srv/nas/wsm]
    shares:
      - name: Afrique
        path: /srv/nas/wsm/Afrique
        quota_bytes: 214748364800
        renamed_from: null
"""

RETURN = r"""
changes:
  description: Renames, created directories and limits (done or, in check mode, to do);
    plus C(unmanaged) entries, which are reports and do not count as changes.
  returned: always
  type: list
  elements: dict
shares:
  description: Per share C(name), C(path), C(subvolume), C(enforced), C(quota_bytes),
    C(limit_bytes), C(usage_bytes).
  returned: always
  type: list
  elements: dict
watched:
  description: >-
    What the module reads (roots, share directories, the roots' entries, qgroup limits) and
    the digest of its state before reading, for nasops.nas.converged's record of the role.
  returned: success
  type: dict
"""

import os  # noqa: E402
import stat  # noqa: E402
from typing import Any, NamedTuple  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.converged import watched  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.forget import kept_entries  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.organisation_quotas import (  # noqa: E402
    OrganisationPlan,
    ShareQgroup,
    plan_organisations,
)
from ansible_collections.nasops.nas.plugins.module_utils.qgroups import (  # noqa: E402
    SUBVOLUME_ROOT_INODE,
    Qgroup,
    format_size,
    own_qgroup,
    parse_qgroup_parents,
    parse_qgroup_show,
    show_argv,
)

def quota_refusal(name: str, quota_bytes: int | None, usage_bytes: int | None) -> str | None:
    """Given a share's quota and usage, return why the quota is refused (None if it is fine)."""
    if quota_bytes is None or usage_bytes is None or usage_bytes <= quota_bytes:
        return None
    return (f"quota {format_size(quota_bytes)} for {name} is below its current usage "
            f"{format_size(usage_bytes)}")


class Probe(NamedTuple):
    """What the module observed on the host for one path."""

    exists: bool
    subvolume: bool
    qgroup: Qgroup | None
    du_bytes: int | None


class Plan(NamedTuple):
    actions: list[tuple[str, Any]]
    changes: list[dict[str, str]]
    reports: list[dict[str, Any]]
    warnings: list[str]
    refusals: list[str]


def plan_share(share: dict[str, Any], plan: Plan, *, new: Probe, old: Probe | None,
               btrfs: bool, quotas_enabled: bool | None) -> None:
    """Given a share, what was observed at its path (and former path), add to the plan.

    `quotas_enabled` is None when btrfs quotas are off and will stay off (not enforced); False
    when they are off now but will be on (check mode before nas_base enables them).
    """
    name, path, old_path = share["name"], share["path"], share.get("renamed_from")
    quota = share.get("quota_bytes")
    current = new
    if old_path:
        if old is not None and old.exists and not new.exists:
            plan.actions.append(("rename", (old_path, path)))
            plan.changes.append({"kind": "rename", "target": path,
                                 "detail": f"share renamed from {old_path}"})
            current = old
        elif old is not None and old.exists:
            plan.refusals.append(f"share {name} is renamed from {old_path} but {path} exists "
                                 "too; merge or remove one of them by hand")
            return
        elif not new.exists:
            plan.refusals.append(f"share {name} is renamed from {old_path}, which does not "
                                 f"exist; drop renamed_from to create {path} empty")
            return
    if not current.exists:
        plan.actions.append(("create", path))
        detail = "create subvolume" if btrfs else "create directory"
        plan.changes.append({"kind": "share", "target": path, "detail": detail})
        current = Probe(True, btrfs, None, 0)
    enforced = btrfs and current.subvolume
    usage = current.qgroup.referenced_bytes if current.qgroup else current.du_bytes
    limit = current.qgroup.referenced_limit_bytes if current.qgroup else None
    report = {"name": name, "path": path, "subvolume": current.subvolume, "enforced": enforced,
              "quota_bytes": quota, "limit_bytes": limit, "usage_bytes": usage}
    plan.reports.append(report)
    refusal = quota_refusal(name, quota, usage)
    if refusal:
        plan.refusals.append(refusal)
        return
    if not btrfs:
        if quota is not None:
            plan.warnings.append(f"quota not enforced: {share['path']} is not on btrfs")
        return
    if not current.subvolume:
        plan.warnings.append(f"quota not enforced: {path} is not a subvolume (move its data "
                             "into a new subvolume of that name to enforce it)")
        report["enforced"] = False
        return
    if quotas_enabled is None:
        plan.warnings.append("quota not enforced: btrfs quotas are disabled on the volume")
        report["enforced"] = False
        return
    if limit != quota:
        before = "none" if limit is None else format_size(limit)
        after = "none" if quota is None else format_size(quota)
        plan.actions.append(("limit", (path, quota)))
        plan.changes.append({"kind": "quota", "target": name,
                             "detail": f"limit {before} -> {after}"})


def unmanaged(root_entries: list[str], root: str, shares: list[dict[str, Any]],
              ) -> list[dict[str, str]]:
    """Given the directory names under root, return reports for those no share claims."""
    claimed = {share["path"] for share in shares} | {
        share["renamed_from"] for share in shares if share.get("renamed_from")}
    return [{"kind": "unmanaged", "target": os.path.join(root, entry),
             "detail": "not a share of the spec (no Samba share); directory and data kept"}
            for entry in sorted(root_entries)
            if not entry.startswith(".") and os.path.join(root, entry) not in claimed]


# ---------------------------------------------------------------------------------------------
# Observing and acting on the host.


class Host:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.btrfs = module.get_bin_path("btrfs")
        self.rescan_needed = False

    def run(self, argv: list[str], check_rc: bool = True) -> tuple[int, str, str]:
        rc, out, err = self.module.run_command(argv)
        if check_rc and rc != 0:
            self.module.fail_json(msg=f"{' '.join(argv)} failed: {err.strip()}")
        return rc, out, err

    def filesystem(self, path: str) -> str:
        probe = path
        while not os.path.exists(probe) and probe != "/":
            probe = os.path.dirname(probe)
        return self.run(["stat", "-f", "-c", "%T", probe])[1].strip()

    def quotas_enabled(self, volume: str) -> bool:
        rc, _out, _err = self.run([self.btrfs, "qgroup", "show", volume], check_rc=False)
        return rc == 0

    def probe(self, path: str, btrfs: bool, quotas_enabled: bool) -> Probe:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return Probe(False, False, None, None)
        if not stat.S_ISDIR(info.st_mode):
            self.module.fail_json(msg=f"{path} exists and is not a directory")
        subvolume = btrfs and info.st_ino == SUBVOLUME_ROOT_INODE
        if subvolume and quotas_enabled:
            out = self.run(show_argv([self.btrfs], path, own_only=True, sync=True))[1]
            try:
                qgroup = own_qgroup(parse_qgroup_show(out))
            except ValueError as error:
                self.module.fail_json(msg=f"{path}: {error}")
            return Probe(True, True, qgroup, None)
        # No qgroup to ask: measure it (a plain directory, or quotas still disabled).
        out = self.run(["du", "-s", "-B1", "-x", path])[1]
        return Probe(True, subvolume, None, int(out.split()[0]))

    def rescan_if_needed(self, volume: str) -> None:
        """After qgroup assignments that left the numbers inconsistent: rescan and wait
        (joining a rescan already running), so usage and limits count right from now on."""
        if self.rescan_needed:
            self.run([self.btrfs, "quota", "rescan", "-w", volume])
            self.rescan_needed = False

    def organisation_plan(self, params: dict[str, Any], organizations: list[dict[str, Any]],
                          found: dict[str, Probe], quotas_enabled: bool) -> OrganisationPlan:
        """Plan each organisation's level-1 qgroup from the volume's qgroups and parents."""
        qgroups: dict[str, Qgroup] = {}
        parents: dict[str, list[str]] = {}
        if quotas_enabled:
            out = self.run(show_argv([self.btrfs or "btrfs"], params["volume"], sync=True,
                                     parents=True))[1]
            try:
                qgroups, parents = parse_qgroup_show(out), parse_qgroup_parents(out)
            except ValueError as error:
                self.module.fail_json(msg=f"{params['volume']}: {error}")
        shares = [ShareQgroup(path, probe.qgroup.identifier if probe.qgroup else None,
                              probe.qgroup.referenced_bytes if probe.qgroup else probe.du_bytes,
                              probe.subvolume or not probe.exists)
                  for path, probe in found.items()]
        return plan_organisations(organizations, shares, qgroups, parents)

    def apply(self, action: str, argument: Any, btrfs: bool, mode: int,
              volume: str = "") -> None:
        if action == "rename":
            os.rename(*argument)
        elif action == "create":
            if btrfs:
                self.run([self.btrfs, "subvolume", "create", argument])
            else:
                os.mkdir(argument)
            os.chmod(argument, mode)
        elif action == "limit":
            path, quota = argument
            self.run([self.btrfs, "qgroup", "limit", "none" if quota is None else str(quota), path])
        elif action == "qgroup create":
            self.run([self.btrfs, "qgroup", "create", argument, volume])
        elif action == "qgroup assign":
            # Planned after this run's shares were made and probed (main): each has its own.
            path, own, group = argument
            if own is None:
                self.module.fail_json(msg=f"{path}: no qgroup of its own to count towards {group}")
            # btrfs counts a share without shared extents at once; otherwise it says the
            # numbers need a rescan, done once after every assignment (rescan_if_needed).
            _rc, out, err = self.run([self.btrfs, "qgroup", "assign", "--no-rescan", own, group,
                                      volume])
            self.rescan_needed = self.rescan_needed or "rescan" in (out + err).lower()
        elif action == "qgroup limit":
            group, quota = argument
            self.run([self.btrfs, "qgroup", "limit", "none" if quota is None else str(quota),
                      group, volume])


def left_the_spec(roots: list[str], shares: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Return the reports of the directories under roots that no share claims."""
    left: list[dict[str, str]] = []
    for root in roots:
        if os.path.isdir(root):
            entries = [entry.name for entry in os.scandir(root)
                       if entry.is_dir(follow_symlinks=False)]
            # Left the spec and settled by `nasops forget`: no longer reported.
            entries = sorted(set(entries) - kept_entries(root, entries))
            left += unmanaged(entries, root, shares)
    return left


def watch_of_quotas(params: dict[str, Any], btrfs: bool) -> dict[str, list[str]]:
    """Return what this module reads, as nasops.nas.converged watches it: the roots and the
    share directories, the roots' entries and their markers (one made by hand there is
    reported), the volume's qgroup limits."""
    paths = [share["path"] for share in params["shares"]]
    return {"directories": [*params["roots"], *paths],
            "globs": [os.path.join(root, "*") for root in params["roots"]],
            # A folder settled by `nasops forget` is told by its marker.
            "markers": list(params["roots"]),
            "qgroup_limits": [params["volume"]] if btrfs else []}


def _quotas_enabled(module: AnsibleModule, host: Host, btrfs: bool) -> bool | None:
    """Whether btrfs quotas are on: None when they are off and stay off (not enforced), False
    when off now but turned on by nas_base (check mode); fail when they must be and are not."""
    params = module.params
    if btrfs and host.btrfs is None:
        module.fail_json(msg="the volume is btrfs but the btrfs command is missing: "
                             "install btrfs-progs (role nas_base)")
    quotas_enabled: bool | None = btrfs and host.quotas_enabled(params["volume"])
    if btrfs and not quotas_enabled:
        if not params["enforce"]:
            quotas_enabled = None
        elif not module.check_mode:
            module.fail_json(msg=f"btrfs quotas are disabled on {params['volume']}: enable "
                                 "them (role nas_base does with nas_base_btrfs_quota: true)")
    return quotas_enabled


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "volume": {"type": "path", "required": True},
            "roots": {"type": "list", "elements": "path", "required": True},
            "shares": {"type": "list", "elements": "dict", "required": True},
            "mode": {"type": "raw", "default": "0700"},
            "enforce": {"type": "bool", "default": True},
            "organizations": {"type": "list", "elements": "dict", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    mode = int(str(params["mode"]), 8)
    host = Host(module)
    btrfs = host.filesystem(params["volume"]) == "btrfs"
    # Before anything else is read: see nasops.nas.converged.
    state = watched(watch_of_quotas(params, btrfs))
    quotas_enabled = _quotas_enabled(module, host, btrfs)
    plan = Plan([], [], [], [], [])
    if not btrfs:
        plan.warnings.append(f"quota not enforced: {params['volume']} is not btrfs")
    found: dict[str, Probe] = {}
    for share in params["shares"]:
        new = host.probe(share["path"], btrfs, bool(quotas_enabled))
        old = (host.probe(share["renamed_from"], btrfs, bool(quotas_enabled))
               if share.get("renamed_from") else None)
        plan_share(share, plan, new=new, old=old, btrfs=btrfs, quotas_enabled=quotas_enabled)
        found[share["path"]] = old if old is not None and old.exists and not new.exists else new
    organisations = params["organizations"] if btrfs and quotas_enabled is not None else []
    limited = [str(organization["id"]) for organization in params["organizations"]
               if organization.get("quota_bytes") is not None]
    if limited and not organisations:
        plan.warnings.append(f"quota of organisation {', '.join(limited)} not enforced: no "
                             "btrfs quotas on the volume")
    if organisations:
        # Before anything is done: a limit below what an organisation stores is refused.
        checked = host.organisation_plan(params, organisations, found, bool(quotas_enabled))
        plan.refusals.extend(checked.refusals)
        plan.warnings.extend(checked.warnings)
    if plan.refusals:
        module.fail_json(msg="refused: " + "; ".join(plan.refusals), shares=plan.reports)
    left = left_the_spec(params["roots"], params["shares"])
    for warning in dict.fromkeys(plan.warnings):
        module.warn(warning)
    if not module.check_mode:
        for action, argument in plan.actions:
            host.apply(action, argument, btrfs, mode)
    if organisations:
        if not module.check_mode:
            # The shares created above have their qgroups now.
            found = {path: probe if probe.qgroup is not None else host.probe(path, True, True)
                     for path, probe in found.items()}
            checked = host.organisation_plan(params, organisations, found, True)
            for action, argument in checked.actions:
                host.apply(action, argument, btrfs, mode, volume=params["volume"])
            host.rescan_if_needed(params["volume"])
        plan.changes.extend(checked.changes)
    module.exit_json(changed=bool(plan.changes),
                     changes=plan.changes + left,
                     shares=plan.reports,
                     # A run that warns is not recorded: skipped, it would warn no more.
                     watched=None if plan.warnings else state)


if __name__ == "__main__":
    main()

#!/usr/bin/python
"""Ansible module nasops.nas.tree: converge one share's folder tree and POSIX ACLs in one pass."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tree
short_description: Converge nasops shares (managed folders, renames, POSIX ACLs) in bulk
description:
  - Creates missing managed folders, applies folder renames, and sets POSIX access and default
    ACLs on every managed folder and on all content already inside it, reading every current ACL
    in one pass (binary xattrs, no getfacl/setfacl) and writing only what differs.
  - Content people made gets the ACL of its nearest managed folder, as inheritance would have
    given it. Managed folders carry the xattr C(trusted.nasops=managed); a marked folder that left
    the spec keeps its ACL and is reported as C(unmanaged). Nothing is ever deleted.
  - Symbolic links and special files are never followed nor changed; nested mount points and
    other file systems below the share root are not entered.
  - The POSIX mapping is the one of docs/provisioning-contract.md.
  - >-
    Either one share (O(path), O(folders), O(share_renamed_from)) or every share at once
    (O(shares)): one call then pays the module start-up once, and the renames and refusals of
    all shares are checked before any share is touched.
version_added: "0.1.0"
author: nasops developers (!UNKNOWN)
options:
  path:
    description: Absolute path of the share root. Required unless O(shares) is given.
    type: str
  folders:
    description:
      - The share's C(folders) list of the desired state, in pre-order. Required with O(path).
      - >-
        "Each item has C(path) (relative to the share root, empty for the root), C(renamed_from)
        (former name within the same parent, or null) and C(entries), a list of
        C({kind: group|user, name, level: write|read|traverse|none})."
    type: list
    elements: dict
  share_renamed_from:
    description: Former absolute path of the share root, renamed in place to O(path).
    type: str
  shares:
    description:
      - The desired state's C(shares), converged in one call, in order. Each item's C(path),
        C(folders) and C(renamed_from) (the share's former absolute path) are used; other keys
        are ignored.
      - Mutually exclusive with O(path). Change targets are then absolute paths, and
        C(changes) is capped at 500 items per share.
    type: list
    elements: dict
  shares_path:
    description:
      - JSON file on the NAS (gzip-compressed when its name ends in C(.gz)) holding the
        compiled desired state or its C(shares) list, read as O(shares). The action plugin
        sets it from O(shares_file).
    type: path
  only:
    description:
      - With O(shares) (or O(shares_file), O(shares_path)), converge only the shares whose
        C(path) is listed: `nasops apply`'s real pass walks again only the shares its check
        found a change in.
    type: list
    elements: str
  shares_file:
    description:
      - JSON file on the controller holding the compiled desired state (or its C(shares)
        list): the action plugin of the same name copies it, compressed, into the task's
        temporary directory on the NAS and passes it as O(shares_path). Much faster than a
        variable for thousands of folders (nothing is templated, parsed or serialised on
        the controller).
    type: path
  forget:
    description:
      - Absolute paths of folders (or shares) that left the spec, to mark as kept instead of
        converging anything; needs O(shares) (or O(shares_file), O(shares_path)) and
        O(organisation_roots).
      - A kept folder and everything under it are left as they are (data, ACLs) and no longer
        reported as C(unmanaged). Paths still in the spec, outside the organisation root,
        behind a symbolic link or never managed are refused before anything is marked.
    type: list
    elements: str
  organisation_roots:
    description: >-
      The directories holding the shares (with O(forget)): each organisation's, and the
      shared shares' of a NAS several organisations share.
    type: list
    elements: str
  desired_copy:
    description:
      - With O(shares) (or O(shares_file), O(shares_path)), the NAS's copy of the desired
        state for the drift check (nas_shares gives C(/etc/nasops/desired.json)). Written
        (0600, root) once every share converged, only when it differs from the state given
        (content, mode or owner): the whole file of O(shares_path), or the shares; reported
        as a change of kind C(desired copy) (in check mode too, as what would change). With
        O(only), only when O(only) lists this path (C(nasops apply)'s real pass does when its
        check, which walked every share, found the copy stale).
      - After a real run that changed anything, the drift check (C(nasops-drift-check.service),
        when installed) is started in the background, so that its record follows at once.
    type: path
  owner:
    description: Owner of the folders this module creates (their group is root).
    type: str
    default: root
  create:
    description: Create missing managed folders (otherwise they are reported in warnings).
    type: bool
    default: true
  missing_rename_source:
    description:
      - What to do when neither the new nor the former name of a renamed folder exists.
      - V(create) creates the folder and warns; V(refuse) fails with a C(refused:) message.
    type: str
    choices: [create, refuse]
    default: create
notes:
  - Supports check mode and diff mode. Runs on the NAS with the Python standard library only.
  - Renames are all validated before anything is touched; a rename whose old and new names both
    exist fails with a message starting with C(refused:).
"""

EXAMPLES = r"""
- name: Converge every share of the desired state in one call
  nasops.nas.tree:
    shares: "{{ nasops_desired.shares }}"

- name: Converge the Afrique share
  nasops.nas.tree:
    path: /srv/nas/wsm/Afrique
    share_renamed_from: null
    folders:
      - path: ""
        renamed_from: null
        entries:
          - {kind: group, name: cellule-afrique, level: write}
      - path: Partenaires/Bénin
        renamed_from: Benin
        entries:
          - {kind: group, name: cellule-afrique, level: read}
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode); at most 500 items per share.
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: "folder, rename, acl or unmanaged", type: str}
    target:
      description: "path relative to the share root, '.' for the root; absolute with O(shares)"
      type: str
    detail: {description: "e.g. 'group:cellule-afrique:r-x -> rwx'", type: str}
changes_truncated:
  description: How many changes were left out of C(changes).
  returned: always
  type: int
counts:
  description: >-
    folders and files visited, symlinks_skipped, special_skipped, mounts_skipped,
    managed (folders), unmanaged (marked folders left alone), acl_written (objects written).
  returned: always
  type: dict
unknown_principals:
  description: Users and groups of the spec that do not exist (check mode only).
  returned: always
  type: list
  elements: str
path:
  description: The share root.
  returned: with O(path)
  type: str
paths:
  description: The share roots, in order.
  returned: with O(shares)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.desired_copy import (  # noqa: E402
    copy_content,
    is_current,
    read_document,
    start_drift_check,
    write_copy,
)
from ansible_collections.nasops.nas.plugins.module_utils.forget import forget  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.tree_engine import (  # noqa: E402
    Converger,
    TreeError,
    converge_shares,
)


def read_shares(path: str) -> tuple[list, bytes, object]:
    """Given a JSON file (gzip-compressed when its name ends in .gz) holding a desired state
    or its shares list, return the shares, the file's bytes and its parsed content."""
    raw, data = read_document(path)
    shares = data.get("shares") if isinstance(data, dict) else data
    if not isinstance(shares, list):
        raise ValueError("no list of shares (a desired state with `shares`, or the list)")
    return shares, raw, data


def load_shares(module: AnsibleModule, params: dict) -> bytes | None:
    """Read O(shares_path) into O(shares); fail when forget has no shares. Return the bytes
    O(desired_copy) must hold (None without it)."""
    raw, document = None, params["shares"]
    if params["shares_path"]:
        try:
            params["shares"], raw, document = read_shares(params["shares_path"])
        except (OSError, ValueError) as error:
            module.fail_json(msg=f"shares_path {params['shares_path']}: {error}")
    if params["forget"] is not None and params["shares"] is None:
        module.fail_json(msg="forget needs shares (or shares_path)")
    if params["desired_copy"] and params["shares"] is None:
        module.fail_json(msg="desired_copy needs shares (or shares_path)")
    # Taken before `only` narrows the shares: the copy is of the whole desired state. With
    # `only`, kept only when apply's real pass lists the copy (its check walked every share).
    content = copy_content(raw, document) if params["desired_copy"] and (
        params["only"] is None or params["desired_copy"] in params["only"]) else None
    if params["only"] is not None and params["shares"] is not None:
        params["shares"] = [share for share in params["shares"]
                            if isinstance(share, dict) and share.get("path") in params["only"]]
    return content


def keep_copy(module: AnsibleModule, path: str | None, content: bytes | None,
              result: dict) -> None:
    """After every share converged: write the desired copy when it differs (reported as a
    change), then start the drift check when the real run changed anything."""
    if path and content is not None and not is_current(path, content):
        if not module.check_mode:
            try:
                write_copy(path, content)
            except OSError as error:
                module.fail_json(msg=f"cannot write the desired state's copy {path}: {error}",
                                 **result)
        result["changes"].append({"kind": "desired copy", "target": path,
                                  "detail": "the drift check's copy of the desired state"})
        result["changed"] = True
    if result.get("changed") and not module.check_mode:
        refresh_drift_check(module)


def refresh_drift_check(module: AnsibleModule) -> None:
    """After a real change: start the drift check so its record (and the drift alert)
    follows now, not at its next timer run; systemd's refusal is a warning, not a failure."""
    warning = start_drift_check()
    if warning:
        module.warn(warning)


def invocation(params: dict) -> dict:
    """Given the module's parameters, return what the result echoes as its invocation: the
    folder lists summarised. Echoed in full, a big tree's megabyte of arguments would travel
    back to the controller and through every callback for nothing."""
    echoed = dict(params)
    if echoed.get("folders") is not None:
        echoed["folders"] = f"{len(echoed['folders'])} folders (not echoed)"
    if echoed.get("shares") is not None:
        echoed["shares"] = [
            {"path": share.get("path"), "renamed_from": share.get("renamed_from"),
             "folders": f"{len(share.get('folders') or [])} folders (not echoed)"}
            if isinstance(share, dict) else share for share in echoed["shares"]]
    return {"module_args": echoed}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "str"},
            "folders": {"type": "list", "elements": "dict"},
            "share_renamed_from": {"type": "str"},
            "shares": {"type": "list", "elements": "dict"},
            "shares_path": {"type": "path"},
            "only": {"type": "list", "elements": "str"},
            "owner": {"type": "str", "default": "root"},
            "create": {"type": "bool", "default": True},
            "missing_rename_source": {"type": "str", "default": "create",
                                      "choices": ["create", "refuse"]},
            "forget": {"type": "list", "elements": "str"},
            "organisation_roots": {"type": "list", "elements": "str"},
            "desired_copy": {"type": "path"},
        },
        required_one_of=[("path", "shares", "shares_path")],
        mutually_exclusive=[("path", "shares", "shares_path"), ("folders", "shares"),
                            ("forget", "desired_copy"),
                            ("folders", "shares_path"), ("share_renamed_from", "shares"),
                            ("share_renamed_from", "shares_path")],
        required_by={"path": "folders", "forget": "organisation_roots"},
        supports_check_mode=True,
    )
    params = module.params
    copy = load_shares(module, params)
    echoed = invocation(params)
    if params["forget"] is not None:
        changes, refusals = forget(params["forget"], params["shares"],
                                   params["organisation_roots"], check_mode=module.check_mode)
        if refusals:
            module.fail_json(msg="; ".join(refusals), invocation=echoed)
        if changes and not module.check_mode:
            refresh_drift_check(module)  # what was forgotten is no longer drift
        module.exit_json(changed=bool(changes), changes=changes, invocation=echoed)
    options = {"owner": params["owner"], "create": params["create"],
               "check_mode": module.check_mode,
               "missing_rename_source": params["missing_rename_source"]}
    if params["shares"] is not None:
        result, errors = converge_shares(params["shares"], **options)
        if errors:
            result.pop("diff")
            for warning in result.pop("warnings"):
                module.warn(warning)
            module.fail_json(msg="; ".join(errors), invocation=echoed, **result)
    else:
        converger = None
        try:
            converger = Converger(params["path"], params["folders"],
                                  params["share_renamed_from"], **options)
            result = converger.run()
        except (TreeError, OSError) as error:
            partial = converger.result() if converger else {}
            partial.pop("diff", None)
            for warning in partial.pop("warnings", []):
                module.warn(warning)
            module.fail_json(msg=str(error), invocation=echoed, **partial)
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff:
        result.pop("diff")
    keep_copy(module, params["desired_copy"], copy, result)
    module.exit_json(invocation=echoed, **result)


if __name__ == "__main__":
    main()

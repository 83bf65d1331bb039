"""Ansible module nasops.nas.converged: which roles the NAS still matches, and their records."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: converged
short_description: Tell which nasops roles need not run, and record those that converged
description:
  - >-
    With O(fingerprints) (given by the action plugin of the same name: a digest of each
    role's code and inputs), reports in C(reasons) why each role must run, or an empty
    reason when its record on the NAS has the same fingerprint and the NAS's state of what
    the role manages (files, directories, links, units, packages, accounts, btrfs quotas)
    still has the digest taken when it converged. Reading that state costs a few commands.
  - >-
    With O(record) (role name to the C(watched) results of its module calls: what each
    manages and the digest of its state taken before the call compared anything) and
    O(write), records those roles as converged with their fingerprint. nasops' own
    bookkeeping in C(/var/lib/nasops/converged.json): it is written in check mode too (by
    `nasops apply` only, never by plan or drift) and never reported as a change.
version_added: "0.1.0"
author: nasops developers (!UNKNOWN)
options:
  fingerprints:
    description: Each role's input fingerprint.
    type: dict
    default: {}
  record:
    description: >-
      Roles whose calls found nothing to change, each to the list of its calls' C(watched)
      results; a C(facts) key of one is kept for the roles after it.
    type: dict
    default: {}
  write:
    description: Write the records of O(record) (false reports what would be recorded).
    type: bool
    default: false
  present:
    description: >-
      Paths on the NAS to tell present or not (in C(present)), read with the records: the
      repositories' C(nasops-backup init) markers, so that a real pass retries C(init) only
      for a repository it has not found yet.
    type: list
    elements: path
    default: []
  answer_file:
    description: >-
      A controller file of one `nasops apply` run (its passes hold the NAS's apply lock
      throughout), handled by the action plugin alone. With O(fingerprints) the answer is
      saved there; a later pass whose fingerprints are the same takes the saved answer
      without reading the NAS again. With O(write) the roles recorded are marked there as
      needing no run.
    type: path
"""

RETURN = r"""
reasons:
  description: Why each role of O(fingerprints) must run; empty when it need not.
  returned: always
  type: dict
facts:
  description: >-
    For each role that need not run, the facts its record carries for the roles after it
    (nas_release: C(nas_release_digest), C(nas_release_path)).
  returned: always
  type: dict
platform:
  description: >-
    The NAS's C(/etc/os-release): C(id), C(version_id), C(version_codename), C(pretty_name)
    (empty strings where missing), for the play's preflight (the releases nasops supports).
  returned: always
  type: dict
present:
  description: The paths of O(present) that exist.
  returned: always
  type: list
recorded:
  description: The roles recorded as converged.
  returned: always
  type: list
"""

import os  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.nasops.nas.plugins.module_utils.converged import (  # noqa: E402
    current_roles,
    read_os_release,
    read_records,
    record_of,
    valid_watch,
    write_records,
)


def main() -> None:
    module = AnsibleModule(argument_spec={
        "fingerprints": {"type": "dict", "default": {}},
        "record": {"type": "dict", "default": {}},
        "write": {"type": "bool", "default": False},
        "present": {"type": "list", "elements": "path", "default": []},
        "answer_file": {"type": "path"},  # the action plugin's; never sent to the NAS
    }, supports_check_mode=True)
    params = module.params
    records = read_records()
    reasons = current_roles(params["fingerprints"], records)
    recorded = []
    if params["record"] and params["write"]:
        for role, calls in sorted(params["record"].items()):
            fingerprint = params["fingerprints"].get(role)
            if not fingerprint:
                module.fail_json(msg=f"no fingerprint for the role {role} to record")
            if not isinstance(calls, list) or not all(
                    isinstance(call, dict) and {"watch", "state"} <= call.keys()
                    and valid_watch(call["watch"]) for call in calls):
                module.fail_json(msg=f"record of {role}: a list of `watched` results expected")
            if any(call["state"] is None for call in calls):
                records.pop(role, None)  # its state could not be read: it runs next time
                continue
            records[role] = record_of(fingerprint, calls)
            recorded.append(role)
        try:
            write_records(records)
        except OSError as error:
            module.fail_json(msg=f"cannot write the record of converged roles: {error}")
    facts = {role: records[role].get("facts") or {} for role, reason in reasons.items()
             if not reason}
    present = [path for path in params["present"] if os.path.lexists(path)]
    module.exit_json(changed=False, reasons=reasons, facts=facts, recorded=recorded,
                     present=present, platform=read_os_release())


if __name__ == "__main__":
    main()

"""What people read: progress lines, plan, apply summary, drift text and JSON, failures."""

from __future__ import annotations

import json
from pathlib import Path

from nasops.ansible.events import Change, HostResult, RunResult, load_run
from nasops.ansible.summary import (
    ITEMS_PER_SECTION,
    progress_line,
    render_apply_summary,
    render_drift,
    render_failures,
    render_plan,
    render_refusals,
    run_document,
    section_of,
)

CHECK_RUN = Path(__file__).parent / "fixtures" / "ansible" / "events" / "check-run.jsonl"
STEP = "nas_shares: folder tree and ACLs"


def _result(*hosts: HostResult, check_mode: bool = True) -> RunResult:
    return RunResult({host.name: host for host in hosts}, check_mode, completed=True)


def test_progress_lines() -> None:
    event = {"event": "result", "host": "wsm-nas", "role": "nas_accounts",
             "task": "users and groups", "status": "changed"}
    assert progress_line(event) == "[wsm-nas] nas_accounts: users and groups … changed"
    assert progress_line(event, check_mode=True) == ("[wsm-nas] nas_accounts: users and groups"
                                                     " … would change")
    failed = {**event, "status": "failed", "msg": "refused: no"}
    assert str(progress_line(failed)).endswith("… failed: refused: no")
    assert str(progress_line({**failed, "ignored": True})).endswith("… failed (ignored)")
    assert progress_line({**event, "status": "skipped"}) is None
    assert progress_line({"event": "task_start", "host": "wsm-nas"}) is None
    check = {**event, "status": "ok", "action": "ansible.builtin.validate_argument_spec"}
    assert progress_line(check) is None
    assert progress_line({**check, "status": "failed"}) is not None


def test_plan_groups_changes_by_section_in_role_order() -> None:
    result = load_run(CHECK_RUN, ["tiny-nas"], check_mode=True)
    del result.hosts["other-nas"]  # in the fixture, but not targeted here
    lines = render_plan(result).splitlines()
    assert lines[0] == "tiny-nas: 18 changes to make"
    sections = [line.strip() for line in lines if line.startswith("  ") and
                not line.startswith("    ")]
    assert sections == ["accounts (7)", "shares (1)", "folders (2)", "ACL entries (2)",
                        "quotas (1)", "renames (1)", "unmanaged folders (1)", "other (1)",
                        "… and 3 more changes the modules did not list", "warnings"]
    assert "    acl /srv/nas/tiny/Common/Money: group:finance:write" in lines
    assert "    task nas_base: samba configuration: changed" in lines
    assert "    unmanaged /srv/nas/tiny/Old: not in the spec; left as it is" in lines
    assert lines[-1] == "    quota not enforced: /srv/nas is not btrfs"


def test_plan_cuts_long_sections_unless_asked() -> None:
    changes = [Change("acl", f"/srv/nas/x/{index}", "r", STEP) for index in range(40)]
    host = HostResult("big-nas", changes=changes)
    short = render_plan(_result(host))
    assert f"… and {40 - ITEMS_PER_SECTION} more (--all shows every item)" in short
    assert "/srv/nas/x/39" not in short
    assert "/srv/nas/x/39" in render_plan(_result(host), show_all=True)


def test_plan_and_apply_without_changes() -> None:
    host = HostResult("wsm-nas")
    assert render_plan(_result(host)) == "wsm-nas: no changes: the NAS already matches the spec"
    assert render_apply_summary(_result(host, check_mode=False)) == (
        "wsm-nas: no changes: the NAS already matches the spec")


def test_apply_summary_counts_changes_per_section() -> None:
    changes = [Change("user", "alice", "create", "s")] * 3 + [Change("acl", "/a", "", "s")]
    host = HostResult("wsm-nas", changes=changes, warnings=["careful"])
    assert render_apply_summary(_result(host, check_mode=False)) == (
        "4 changes on wsm-nas (accounts 3, ACL entries 1)\n  warning: careful")
    one = HostResult("wsm-nas", changes=changes[:1])
    assert render_apply_summary(_result(one)).startswith("1 change on wsm-nas")


def test_apply_reports_unmanaged_places_apart() -> None:
    host = HostResult("wsm-nas", changes=[Change("unmanaged", "/srv/nas/wsm/Old", "kept", "s")])
    assert render_apply_summary(_result(host, check_mode=False)) == (
        "wsm-nas: no changes: the NAS already matches the spec\n"
        "  1 place not in the spec, left as they are: /srv/nas/wsm/Old")
    assert run_document("drift", _result(host), exit_code=3, log=None)["drift"] is True


def test_drift_text_and_stable_json() -> None:
    drifted = HostResult("b-nas", changes=[Change("acl", "/srv/nas/wsm/Afrique/Finances",
                                                  "group:partenaires-afrique: rwx -> none",
                                                  STEP)])
    clean = HostResult("a-nas", warnings=["quota not enforced"])
    result = _result(drifted, clean)
    assert render_drift(result) == (
        "b-nas: 1 difference from the spec\n"
        "  acl /srv/nas/wsm/Afrique/Finances: group:partenaires-afrique: rwx -> none\n"
        "a-nas: no drift: the NAS matches the spec\n"
        "  warning: quota not enforced")
    document = run_document("drift", result, exit_code=3, log=None)
    assert list(document["hosts"]) == ["a-nas", "b-nas"]
    assert document["drift"] is True
    assert document["hosts"]["b-nas"]["changes"] == [{
        "kind": "acl", "target": "/srv/nas/wsm/Afrique/Finances",
        "detail": "group:partenaires-afrique: rwx -> none", "step": STEP,
        "role": "nas_shares", "section": "ACL entries"}]
    assert document["hosts"]["a-nas"]["warnings"] == ["quota not enforced"]
    assert json.loads(json.dumps(document)) == document
    assert run_document("drift", _result(clean), exit_code=0, log=None)["drift"] is False


def test_refusals_and_failures_name_host_and_step() -> None:
    result = load_run(CHECK_RUN, ["tiny-nas", "other-nas"], check_mode=True)
    assert render_refusals(result) == ("other-nas [nas_quotas: quotas]: refused: quota 1M of "
                                       "/srv/nas/other/Work is below its usage 5M")
    unreachable = HostResult("gone-nas", unreachable="Connection refused")
    assert render_failures(_result(unreachable)) == "gone-nas: unreachable: Connection refused"


def test_failure_without_host_detail_shows_the_log_end() -> None:
    result = RunResult({"a": HostResult("a")}, False, returncode=4,
                       log_tail="ERROR! the role 'nas_base' was not found")
    assert render_failures(result) == (
        "ansible-playbook ended with exit code 4 before any host reported a failure; "
        "the end of its output:\n  ERROR! the role 'nas_base' was not found")


def test_unknown_kinds_fall_under_other() -> None:
    assert section_of("membership") == "accounts"
    assert section_of("syncthing-folder") == "other"
    assert section_of("service") == "system files and services"

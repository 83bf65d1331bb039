"""-v, the kept log and --json of plan, apply, drift and validate, through real ansible-playbook
runs of the stand-in project (tests/unit/fixtures/ansible/project, as in test_ansible_run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_nas import FIXTURES, PROJECT, SECRET, SPEC, write_inventory

from nasops.ansible import TargetHost, run_playbook
from nasops.ansible.run_log import RESULT_NAME, RunLog
from nasops.cli.main import main
from nasops.collection import ANSIBLE_DIRECTORY_VARIABLE
from nasops.execute import MASK
from nasops.provision import prepared_workspace

# The keys every run document has, whatever the command and however it ended.
RUN_KEYS = {"version", "command", "check_mode", "exit_code", "log", "change_count", "drift",
            "hosts", "errors", "warnings"}
HOST_KEYS = {"status", "change_count", "unlisted", "by_role", "changes", "drifted",
             "failures", "unreachable", "warnings"}
ERROR_KEYS = {"file", "line", "column", "path", "message"}

pytestmark = pytest.mark.slow


@pytest.fixture
def local_nas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return the inventory of a fake NAS on localhost whose state is tmp_path/state.json."""
    monkeypatch.setenv(ANSIBLE_DIRECTORY_VARIABLE, str(PROJECT))
    return write_inventory(tmp_path)


def _run_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any],
                                                                           str]:
    """Run the CLI; return its exit code, the one JSON document of stdout, and stderr."""
    code = main(list(arguments))
    output = capsys.readouterr()
    document = json.loads(output.out)  # fails on anything but one JSON document
    assert isinstance(document, dict) and set(document) >= RUN_KEYS
    assert document["exit_code"] == code
    for host in document["hosts"].values():
        assert set(host) == HOST_KEYS
    for error in document["errors"]:
        assert set(error) == ERROR_KEYS
    return code, document, output.err


def _kept(document: dict[str, Any]) -> str:
    """Return the kept log a document names, after checking its result.json agrees."""
    log = Path(document["log"])
    assert json.loads((log.parent / RESULT_NAME).read_text(encoding="utf-8")) == document
    return log.read_text(encoding="utf-8")


def test_json_documents_of_plan_apply_and_drift(
        local_nas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = str(local_nas)
    code, plan, err = _run_json(capsys, "plan", "-i", inventory, "--json", "-vv")
    assert code == 0 and plan["command"] == "plan" and plan["check_mode"] is True
    host = plan["hosts"]["local-nas"]
    assert (host["status"], host["change_count"], plan["change_count"]) == ("changed", 5, 5)
    assert host["by_role"] == {"fake_nas": 5}
    # Who gains and who loses access: nothing is kept on a NAS never applied to.
    assert plan["access"] == {"local-nas": {"known": False, "problem": None, "applied_at": None,
                                            "notes": [], "organisations": {}, "gone": []}}
    assert {"kind": "group", "target": "team", "detail": "create",
            "step": "fake_nas: Converge groups and quotas", "role": "fake_nas",
            "section": "accounts"} in host["changes"]
    # -vv reached ansible-playbook: its own verbose lines on stderr and in the kept log,
    # instead of nasops' progress lines.
    assert "ansible-playbook [core " in err and "… would change" not in err
    log = _kept(plan)
    assert "ansible-playbook [core " in log and " -vv" in log.splitlines()[0]
    assert SECRET not in log and SECRET not in err

    code, applied, _ = _run_json(capsys, "apply", "-i", inventory, "--json")
    assert code == 0 and applied["check_mode"] is False and applied["drift"] is None
    assert applied["hosts"]["local-nas"]["change_count"] == 5
    # Both passes of the apply, check then real, are in its one log.
    assert _kept(applied).count("--check") == 1
    assert [line for line in _kept(applied).splitlines() if line.startswith("$ ")][1:] != []

    code, again, _ = _run_json(capsys, "plan", "-i", inventory, "--json")
    access = again["access"]["local-nas"]
    assert access["known"] and access["organisations"]["tiny"]["changes"] == []
    assert "access" not in applied

    code, clean, _ = _run_json(capsys, "drift", "-i", inventory, "--json")
    assert (code, clean["drift"], clean["hosts"]["local-nas"]["status"]) == (0, False, "ok")
    state_path = local_nas.parent / "state.json"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    state["acls"]["/srv/nas/tiny/Common/Money"] = ["group:team:write"]
    state_path.write_text(json.dumps(state), encoding="utf-8")
    code, drifted, err = _run_json(capsys, "drift", "-i", inventory, "--json")
    assert (code, drifted["drift"], drifted["errors"]) == (3, True, [])
    assert [change["target"] for change in drifted["hosts"]["local-nas"]["changes"]] == [
        "/srv/nas/tiny/Common/Money"]
    assert "drift found on local-nas" in err and f"full log: {drifted['log']}" in err
    assert len({plan["log"], applied["log"], again["log"], clean["log"], drifted["log"]}) == 5


def test_json_on_refusal_and_on_an_invalid_spec(
        local_nas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = str(local_nas)
    assert main(["apply", "-i", inventory, "-q"]) == 0
    state_path = local_nas.parent / "state.json"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    state["usage"]["/srv/nas/tiny/Common"] = 50 * 1024**2
    state_path.write_text(json.dumps(state), encoding="utf-8")
    capsys.readouterr()
    code, refused, err = _run_json(capsys, "apply", "-i", inventory, "--json")
    assert code == 2 and refused["hosts"]["local-nas"]["status"] == "refused"
    [failure] = refused["hosts"]["local-nas"]["failures"]
    assert failure["refusal"] is True and failure["message"].startswith("refused: quota")
    assert "nothing was changed" in refused["errors"][0]["message"]
    assert err.rstrip().endswith(f"full log: {refused['log']}")

    broken = str(FIXTURES / "specs" / "broken.yml")
    code, invalid, _ = _run_json(capsys, "plan", "-i", inventory, "--spec", broken, "--json")
    assert (code, invalid["log"], invalid["hosts"]) == (2, None, {})
    assert invalid["errors"] == [{"file": broken, "line": 4, "column": 28,
                                  "path": "users[0].groups[0]",
                                  "message": "unknown group 'Nobody'"}]


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", str(SPEC)]) == 0
    valid = json.loads(capsys.readouterr().out)
    assert set(valid) == RUN_KEYS | {"spec", "valid", "counts"}
    assert (valid["valid"], valid["exit_code"], valid["command"]) == (True, 0, "validate")
    assert valid["counts"] == {"users": 2, "groups": 2, "shares": 1, "folders": 2}
    broken = str(FIXTURES / "specs" / "broken.yml")
    assert main(["validate", "--json", broken]) == 2
    output = capsys.readouterr()
    invalid = json.loads(output.out)
    assert (invalid["valid"], invalid["exit_code"]) == (False, 2)
    assert [(e["file"], e["line"], e["column"]) for e in invalid["errors"]] == [(broken, 4, 28)]
    assert "unknown group 'Nobody'" in output.err  # the message people read is unchanged
    assert main(["validate", "--json", "/nonexistent/spec.yml"]) == 2
    missing = json.loads(capsys.readouterr().out)
    assert missing["errors"][0]["file"] == "/nonexistent/spec.yml"
    assert missing["errors"][0]["line"] is None


def test_a_secret_ansible_prints_is_masked_in_the_kept_log_and_on_screen(
        local_nas: Path, tmp_path: Path) -> None:
    # A careless playbook prints the secrets file whole: what nasops keeps and shows of it
    # must not hold the password (registered from the plain secrets file).
    careless = tmp_path / "careless.yml"
    careless.write_text(
        "- name: Print the secrets\n  hosts: nas\n  gather_facts: false\n  tasks:\n"
        "    - name: Show them\n      ansible.builtin.debug:\n"
        "        msg: \"{{ lookup('ansible.builtin.file', nasops_secrets_file) }}\"\n",
        encoding="utf-8")
    target = TargetHost("local-nas", SPEC, local_nas.parent / "secrets.yml")
    run_log = RunLog.create("plan", str(local_nas))
    shown: list[str] = []
    with prepared_workspace([target]) as workspace:
        result = run_playbook(workspace, str(local_nas), check=True, root=PROJECT,
                              playbook=careless, run_log=run_log, echo=shown.append,
                              verbosity=3)
        raw = workspace.log_path.read_text(encoding="utf-8")
    assert result.completed and not result.failed
    assert SECRET in raw  # Ansible did print it: the test would catch a leak
    kept = run_log.path.read_text(encoding="utf-8")
    assert SECRET not in kept and f"alice: {MASK}" in kept
    assert shown and not any(SECRET in line for line in shown)


def test_a_runs_folder_that_cannot_be_written_stops_before_ansible(
        local_nas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    not_a_folder = tmp_path / "runs-file"
    not_a_folder.write_text("", encoding="utf-8")
    monkeypatch.setenv("NASOPS_RUNS_DIR", str(not_a_folder))
    code, document, err = _run_json(capsys, "apply", "-i", str(local_nas), "--json")
    assert (code, document["log"], document["hosts"]) == (2, None, {})
    assert "cannot keep the run's log there" in err and "NASOPS_RUNS_DIR" in err
    assert not (local_nas.parent / "state.json").exists()

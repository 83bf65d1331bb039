"""Real ansible-playbook runs on localhost (ansible_connection=local) against a stand-in project.

tests/unit/fixtures/ansible/project stands in for the repository's ansible.cfg, playbooks/
and roles/: its one module converges a JSON file instead of a NAS and reports `changes` the
way the real bulk modules do, so the whole chain (inventory, workspace, callback, runner,
summaries, exit codes) runs for real without a lab host.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_nas import FIXTURES, PROJECT, SECRET, SPEC, write_inventory

from nasops.ansible import TargetHost, project_root, run_playbook
from nasops.ansible.runner import playbook_argv
from nasops.cli.main import main
from nasops.collection import ANSIBLE_DIRECTORY_VARIABLE
from nasops.errors import PrerequisiteError
from nasops.provision import prepared_workspace

pytestmark = pytest.mark.slow


@pytest.fixture
def local_nas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return the inventory of a fake NAS on localhost whose state is tmp_path/state.json."""
    monkeypatch.setenv(ANSIBLE_DIRECTORY_VARIABLE, str(PROJECT))
    return write_inventory(tmp_path)


def _state(inventory: Path) -> dict[str, object]:
    data = json.loads((inventory.parent / "state.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _edit_state(inventory: Path, **changes: object) -> None:
    path = inventory.parent / "state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if isinstance(value, dict):
            state[key].update(value)
        else:
            state[key] = value
    path.write_text(json.dumps(state), encoding="utf-8")


def test_event_stream_and_no_log(local_nas: Path) -> None:
    target = TargetHost("local-nas", SPEC, local_nas.parent / "secrets.yml")
    seen: list[dict[str, Any]] = []
    with prepared_workspace([target]) as workspace:
        result = run_playbook(workspace, str(local_nas), check=True, on_event=seen.append)
        events_text = workspace.events_path.read_text(encoding="utf-8")
        log_text = workspace.log_path.read_text(encoding="utf-8")
    kinds = [event["event"] for event in seen]
    assert kinds[0] == "play_start" and kinds[-1] == "recap"
    assert kinds.count("task_start") == kinds.count("result") == 4
    hidden = [event for event in seen if event.get("task") == "Use a secret in a hidden task"]
    assert hidden[-1]["censored"] is True and hidden[-1]["role"] == "fake_nas"
    accounts, tree = [event for event in seen if event["event"] == "result"][-2:]
    assert accounts["status"] == "changed" and accounts["host"] == "local-nas"
    assert accounts["msg"] == "converged with ********"  # a no_log module argument
    assert {"kind": "group", "target": "team", "detail": "create"} in accounts["changes"]
    # A loop's item changes are gathered, their relative targets joined to the item's path.
    assert tree["task"] == "Converge each share's ACLs"
    assert [change["target"] for change in tree["changes"]] == [
        "/srv/nas/tiny/Common", "/srv/nas/tiny/Common/Money"]
    # The secret is used by two no_log tasks and a no_log argument: it reaches no output.
    assert SECRET not in events_text and SECRET not in log_text
    assert result.completed and not result.failed
    assert result.change_count == 5


def test_plan_apply_drift_cycle(local_nas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = str(local_nas)
    assert main(["plan", "-i", inventory]) == 0
    output = capsys.readouterr()
    # Who gains and who loses access first: this NAS keeps no spec applied before.
    assert output.out.startswith("local-nas: no earlier apply of nasops' is kept on this NAS")
    assert "\nlocal-nas: 5 changes to make" in output.out
    assert "    group team: create" in output.out
    assert "[local-nas] fake_nas: Converge groups and quotas … would change" in output.err
    assert not (local_nas.parent / "state.json").exists()  # plan touched nothing

    assert main(["apply", "-i", inventory]) == 0
    output = capsys.readouterr()
    summary, log_line = output.out.splitlines()
    assert summary == "5 changes on local-nas (accounts 2, ACL entries 2, quotas 1)"
    assert log_line.startswith("full log: ") and Path(log_line[10:]).is_file()
    assert "[local-nas] fake_nas: Converge each share's ACLs … changed" in output.err
    # The record of how it ended, written by the holder of the apply lock.
    record = json.loads((local_nas.parent / "apply.json").read_text(encoding="utf-8"))
    assert (record["result"], record["changed_items"]) == ("success", 5)
    assert record["started_at"] <= record["finished_at"]
    # The NAS keeps the spec it now matches, for the next plan (tests/unit/test_applied_specs).
    kept = json.loads((local_nas.parent / "applied-specs.json").read_text(encoding="utf-8"))
    assert kept["specs"][0]["text"] == SPEC.read_text(encoding="utf-8")

    (local_nas.parent / "applied-specs.json").unlink()
    assert main(["apply", "-i", inventory, "-q"]) == 0
    output = capsys.readouterr()
    assert output.out.splitlines()[0] == "local-nas: no changes: the NAS already matches the spec"
    assert output.err == ""
    # An apply with nothing to do keeps the spec too (the NAS matches it).
    assert (local_nas.parent / "applied-specs.json").is_file()
    assert main(["drift", "-i", inventory, "-q"]) == 0
    assert "no drift" in capsys.readouterr().out

    # Someone widens a folder's ACL by hand, and the volume turns out not to be btrfs.
    money = "/srv/nas/tiny/Common/Money"
    _edit_state(local_nas, acls={money: ["group:finance:write", "group:team:write"]},
                filesystem="ext4")
    assert main(["drift", "-i", inventory, "-q"]) == 3
    output = capsys.readouterr()
    assert f"  acl {money}: group:finance:write" in output.out
    assert "warning: quota not enforced: /srv/nas is not btrfs" in output.out
    assert "drift found on local-nas" in output.err
    assert main(["drift", "-i", inventory, "--json"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert document["drift"] is True
    assert [item["target"] for item in document["hosts"]["local-nas"]["changes"]] == [money]

    assert main(["apply", "-i", inventory, "-q"]) == 0
    capsys.readouterr()
    assert main(["drift", "-i", inventory, "-q"]) == 0


def test_refusal_stops_plan_and_apply_before_any_change(
        local_nas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "-i", str(local_nas), "-q"]) == 0
    _edit_state(local_nas, usage={"/srv/nas/tiny/Common": 50 * 1024**2},
                acls={"/srv/nas/tiny/Common": []})
    before = _state(local_nas)
    capsys.readouterr()
    for command in ("plan", "apply", "drift"):
        assert main([command, "-i", str(local_nas), "-q"]) == 2
        error = capsys.readouterr().err
        assert error.startswith("local-nas [fake_nas: Converge groups and quotas]: "
                                "refused: quota 10485760 of /srv/nas/tiny/Common is below")
        *_, last, log_line = error.rstrip().splitlines()
        assert last == "nothing was changed" and log_line.startswith("full log: ")
        assert _state(local_nas) == before


def test_unreachable_host_fails_with_exit_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(ANSIBLE_DIRECTORY_VARIABLE, str(PROJECT))
    (tmp_path / "secrets.yml").write_text("nasops_user_passwords: {alice: x}\n",
                                          encoding="utf-8")
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "[nas]\nfar-nas ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody "
        f"nasops_spec={SPEC} nasops_secrets_file=secrets.yml fake_nas_state=/nonexistent\n",
        encoding="utf-8")
    assert main(["plan", "-i", str(inventory), "-q"]) == 1
    error = capsys.readouterr().err
    assert "the check run failed; nothing was changed" in error
    assert "far-nas: unreachable:" in error


def test_invalid_spec_is_reported_before_ansible_runs(
        local_nas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = FIXTURES / "specs" / "broken.yml"
    assert main(["apply", "-i", str(local_nas), "--spec", str(broken)]) == 2
    assert "Nobody" in capsys.readouterr().err
    assert not (local_nas.parent / "state.json").exists()


def test_project_root_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ANSIBLE_DIRECTORY_VARIABLE, str(PROJECT))
    assert project_root() == PROJECT.resolve()
    monkeypatch.setenv(ANSIBLE_DIRECTORY_VARIABLE, str(tmp_path))
    with pytest.raises(PrerequisiteError, match="NASOPS_ANSIBLE_DIR"):
        project_root()


def test_playbook_argv_limits_to_prepared_hosts(tmp_path: Path) -> None:
    password_file = tmp_path / "vault-password"
    argv = playbook_argv(PROJECT, "host-a,", tmp_path / "inventory", ["a", "b"], check=True,
                         vault_password_file=str(password_file))
    assert argv[1:] == ["-i", "host-a,", "-i", str(tmp_path / "inventory"),
                        str(PROJECT / "playbooks" / "site.yml"), "--limit", "a,b",
                        "--check", "--diff", "--vault-password-file", str(password_file)]


def test_apply_records_say_how_the_real_run_ended_and_a_check_records_nothing() -> None:
    from nasops.ansible.events import Change, Failure, HostResult, RunResult  # noqa: PLC0415
    from nasops.provision.record import apply_records  # noqa: PLC0415

    done = HostResult("done", changes=[Change("acl", "/srv/nas/a", "x", "s")] * 3, unlisted=2)
    broken = HostResult("broken", failures=[Failure("nas_shares: tree", "boom")])
    away = HostResult("away", unreachable="ssh: connect refused")
    real = RunResult({"done": done, "broken": broken, "away": away}, check_mode=False)
    assert apply_records(real) == {"done": {"result": "success", "changed_items": 5},
                                   "broken": {"result": "failure", "changed_items": 0},
                                   "away": {"result": "failure", "changed_items": 0}}
    refused = HostResult("done", failures=[Failure("nas_quotas", "refused: quota")])
    assert apply_records(RunResult({"done": refused}, check_mode=True)) == {}


def test_playbook_argv_takes_another_playbook_and_extra_variables(tmp_path: Path) -> None:
    from nasops.ansible.runner import playbook_argv  # noqa: PLC0415

    other = Path("playbooks") / "other.yml"
    argv = playbook_argv(tmp_path, "inventory.yml", tmp_path / "inventory", ["a"],
                         check=False, playbook=other,
                         extra_variables_file=tmp_path / "extra.json")
    assert str(tmp_path / "playbooks/other.yml") in argv
    assert argv[argv.index("--extra-vars") + 1] == f"@{tmp_path / 'extra.json'}"

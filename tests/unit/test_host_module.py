"""The steps of the nasops.nas.host module on real files in a temporary directory; systemctl and
the account commands are answered by a recording stand-in (the lab tests run the real ones).
The unit directory (and what prune accepts) is pointed at the temporary directory with
monkeypatch: a unit test must never write to /etc/systemd/system."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nasops.nas.plugins.module_utils import host_files as files_steps
from ansible_collections.nasops.nas.plugins.module_utils import host_system as system_steps

ROLE = Path(__file__).parents[2] / "roles/nas_base"




OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


class FakeModule:
    """What the steps use of AnsibleModule; commands answered from `answers`."""

    def __init__(self, check: bool = False, answers: dict[str, str] | None = None) -> None:
        self.check_mode = check
        self._diff = True
        self.answers = answers or {}
        self.commands: list[list[str]] = []

    def run_command(self, argv: list[str], **_: Any) -> tuple[int, str, str]:
        self.commands.append(list(argv))
        return 0, self.answers.get(" ".join(argv[:2]), ""), ""


def file_spec(dest: Path, content: str | None = "hello\n", **extra: Any) -> dict[str, Any]:
    return {"dest": str(dest), "content": content, "state": "present", "owner": OWNER,
            "group": GROUP, "mode": "0644", "force": True, "diff": True, "validate": None,
            **extra}


def host(check: bool = False, answers: dict[str, str] | None = None) -> Any:
    return system_steps.System(FakeModule(check, answers))


def test_a_file_is_written_once_then_left_alone(tmp_path: Path) -> None:
    first, second = host(), host()
    first.file(file_spec(tmp_path / "a.conf"))
    second.file(file_spec(tmp_path / "a.conf"))
    assert (tmp_path / "a.conf").read_text() == "hello\n"
    assert first.changes == [{"kind": "file", "target": str(tmp_path / "a.conf"),
                              "detail": "create"}]
    assert second.changes == [] and second.changed_paths == []


def test_check_mode_reports_without_writing(tmp_path: Path) -> None:
    checking = host(check=True)
    checking.file(file_spec(tmp_path / "a.conf"))
    assert not (tmp_path / "a.conf").exists()
    assert checking.changed_paths == [str(tmp_path / "a.conf")]


def test_mode_is_fixed_and_a_secret_never_reaches_the_diff(tmp_path: Path) -> None:
    target = tmp_path / "key"
    target.write_text("old-secret\n")
    target.chmod(0o644)
    converging = host()
    converging.file(file_spec(target, "new-secret\n", mode="0600"), secret=True)
    assert target.read_text() == "new-secret\n"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert converging.diff == []
    assert "secret" not in repr(converging.changes)


def test_absent_removes_and_a_missing_file_is_no_change(tmp_path: Path) -> None:
    target = tmp_path / "exporter.crt"
    target.write_text("x")
    removing, again = host(), host()
    removing.file(file_spec(target, None, state="absent"))
    again.file(file_spec(target, None, state="absent"))
    assert not target.exists()
    assert [change["detail"] for change in removing.changes] == ["remove"]
    assert again.changes == []


def test_a_failed_validation_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "exporter.json"
    target.write_text("old\n")

    class Refusing(FakeModule):
        def run_command(self, argv: list[str], **_: Any) -> tuple[int, str, str]:
            return 1, "", "bad config"

    converging = system_steps.System(Refusing())
    with pytest.raises(files_steps.HostError, match="bad config"):
        converging.file(file_spec(target, "new\n", validate="check %s"))
    assert target.read_text() == "old\n"
    assert [path.name for path in tmp_path.iterdir()] == ["exporter.json"]


def test_a_link_is_switched_atomically_and_a_real_file_is_refused(tmp_path: Path) -> None:
    current = tmp_path / "current"
    switching = host()
    switching.link({"dest": str(current), "src": "/opt/nasops/releases/a"})
    switching.link({"dest": str(current), "src": "/opt/nasops/releases/b"})
    assert os.readlink(current) == "/opt/nasops/releases/b"
    assert [change["detail"] for change in switching.changes] == [
        "-> /opt/nasops/releases/a", "/opt/nasops/releases/a -> /opt/nasops/releases/b"]
    unchanged = host()
    unchanged.link({"dest": str(current), "src": "/opt/nasops/releases/b"})
    assert unchanged.changes == []
    (tmp_path / "plain").write_text("data")
    with pytest.raises(files_steps.HostError, match="not a symbolic link"):
        host().link({"dest": str(tmp_path / "plain"), "src": "elsewhere"})


def test_prune_refuses_a_directory_that_could_hold_data(tmp_path: Path) -> None:
    (tmp_path / "report.odt").write_text("data")
    with pytest.raises(files_steps.HostError, match="is not one of"):
        host().prune({"directory": str(tmp_path), "patterns": ["*"], "keep": []})
    assert (tmp_path / "report.odt").exists()


def test_prune_stops_stale_units_and_keeps_the_others(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_steps, "UNIT_DIRECTORY", str(tmp_path))
    monkeypatch.setattr(system_steps, "PRUNABLE", (str(tmp_path),))
    for name in ("nasops-backup@usb.timer", "nasops-backup@old.timer", "other.timer"):
        (tmp_path / name).write_text("[Timer]\n")
    pruning = host()
    pruning.prune({"directory": str(tmp_path), "patterns": ["nasops-backup@*.timer"],
                   "keep": ["nasops-backup@usb.timer"]})
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "nasops-backup@usb.timer", "other.timer"]
    assert pruning.module.commands == [
        ["systemctl", "disable", "--now", "nasops-backup@old.timer"]]
    pruning.daemon_reload()
    assert pruning.module.commands[-1] == ["systemctl", "daemon-reload"]


def test_units_are_asked_in_one_call_and_only_the_missing_started(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_steps, "UNIT_DIRECTORY", str(tmp_path))
    answers = {"systemctl is-enabled": "enabled\ndisabled\nstatic\n",
               "systemctl is-active": "active\ninactive\nactive\n"}
    starting = host(answers=answers)
    starting.started(["a.socket", "b.timer", "c.service"])
    assert starting.module.commands == [
        ["systemctl", "is-enabled", "a.socket", "b.timer", "c.service"],
        ["systemctl", "is-active", "a.socket", "b.timer", "c.service"],
        ["systemctl", "enable", "--now", "b.timer"]]
    assert [change["target"] for change in starting.changes] == ["b.timer"]


def test_check_mode_does_not_ask_systemd_about_units_not_installed_yet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_steps, "UNIT_DIRECTORY", str(tmp_path))
    checking = host(check=True)
    checking.file(file_spec(tmp_path / "new.service"))
    checking.started(["new.service"])
    assert checking.module.commands == []
    assert checking.changes[-1] == {"kind": "service", "target": "new.service",
                                    "detail": "enable and start"}


def test_stopped_takes_patterns_and_skips_units_never_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_steps, "UNIT_DIRECTORY", str(tmp_path))
    (tmp_path / "nasops-backup@usb.timer").write_text("")
    answers = {"systemctl is-enabled": "enabled\n", "systemctl is-active": "active\n"}
    stopping = host(answers=answers)
    stopping.stopped(["nasops-backup@*.timer", "nasops-syncthing.service"])
    assert stopping.module.commands[-1] == ["systemctl", "disable", "--now",
                                            "nasops-backup@usb.timer"]


def test_reactions_follow_changed_paths_and_never_run_in_check_mode(tmp_path: Path) -> None:
    reactions = [
        {"unit": "nasops-exporter.service", "action": "restart", "no_block": False,
         "changed": False, "paths": [str(tmp_path / "exporter.json")]},
        {"unit": "nasops-drift-check.service", "action": "start", "no_block": True,
         "changed": False, "paths": [str(tmp_path / "desired.json")]}]
    reacting = host()
    reacting.file(file_spec(tmp_path / "desired.json"))
    reacting.react(reactions)
    assert reacting.module.commands == [
        ["systemctl", "start", "--no-block", "nasops-drift-check.service"]]
    assert reacting.result["reactions"] == ["start nasops-drift-check.service"]
    checking = host(check=True)
    checking.file(file_spec(tmp_path / "exporter.json"))
    checking.react(reactions)
    assert checking.module.commands == []
    assert checking.result["reactions"] == ["restart nasops-exporter.service"]


def test_look_reports_found_paths_and_link_targets(tmp_path: Path) -> None:
    (tmp_path / "releases/abc").mkdir(parents=True)
    (tmp_path / "releases/abc/.installed").write_text("{}")
    (tmp_path / "releases/def").mkdir()
    (tmp_path / "current").symlink_to(tmp_path / "releases/abc")
    looking = host()
    looking.look([f"{tmp_path}/releases/*/.installed"],
                 [str(tmp_path / "current"), str(tmp_path / "missing")])
    assert looking.result["found"] == [f"{tmp_path}/releases/abc/.installed"]
    assert looking.result["link_targets"] == {str(tmp_path / "current"):
                                              str(tmp_path / "releases/abc"),
                                              str(tmp_path / "missing"): None}


def test_units_are_asked_one_by_one_when_systemctl_answers_short(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_steps, "UNIT_DIRECTORY", str(tmp_path))

    class Short(FakeModule):
        def run_command(self, argv: list[str], **_: Any) -> tuple[int, str, str]:
            self.commands.append(list(argv))
            if argv[1].startswith("is-") and len(argv) > 3:  # stops at an unknown unit
                return 1, "enabled\n", "Failed to get unit file state for b.timer"
            return 0, {"a.socket": "enabled\n", "b.timer": "enabled\n"}.get(argv[2], ""), ""

    starting = system_steps.System(Short())
    starting.started(["a.socket", "b.timer"])
    assert ["systemctl", "is-enabled", "b.timer"] in starting.module.commands
    assert starting.module.commands[-1][:3] == ["systemctl", "enable", "--now"]


def test_a_unit_started_by_the_same_call_is_not_restarted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_steps, "UNIT_DIRECTORY", str(tmp_path))
    answers = {"systemctl is-enabled": "disabled\n", "systemctl is-active": "inactive\n"}
    installing = host(answers=answers)
    installing.file(file_spec(tmp_path / "exporter.json"))
    installing.started(["nasops-exporter.service"])
    installing.react([{"unit": "nasops-exporter.service", "action": "restart",
                       "no_block": False, "changed": False,
                       "paths": [str(tmp_path / "exporter.json")]}])
    assert ["systemctl", "restart", "nasops-exporter.service"] not in installing.module.commands
    assert installing.result["reactions"] == []


def test_a_file_sent_as_a_path_is_written_but_never_copied_into_the_arguments(
        tmp_path: Path) -> None:
    # The module's arguments go back to the controller in its result (`invocation`): the
    # desired state's megabytes there cost the worker tens of MB (issue 18, peak memory).
    sent = tmp_path / "source-0"
    sent.write_text('{"shares": []}\n', encoding="utf-8")
    spec = file_spec(tmp_path / "desired.json", None, content_path=str(sent))
    host().file(spec)
    assert (tmp_path / "desired.json").read_text(encoding="utf-8") == '{"shares": []}\n'
    assert spec["content"] is None

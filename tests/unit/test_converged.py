"""nasops.nas.converged: a role is skipped only while its inputs and the NAS's state of what
it manages are both unchanged (issue 18); any hand-made change to that state makes it run."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from ansible_collections.nasops.nas.plugins.action import converged as action
from ansible_collections.nasops.nas.plugins.module_utils.converged import (
    current_roles,
    merged_watch,
    read_records,
    record_of,
    state_digest,
    watch_of,
    watched,
    write_records,
)

ROOT = Path(__file__).resolve().parents[2]
# `btrfs qgroup show --raw -re -p`: the Parent column after the limits.
QGROUPS = """qgroupid         rfer         excl     max_rfer     max_excl parent
--------         ----         ----     --------     -------- ------
0/5             16384        16384         none         none -
0/257         {usage}      {usage}   1073741824         none 1/7
1/7           {usage}      {usage}   3221225472         none -
"""


class FakeSystem:
    """Answers the commands the check runs (systemctl, dpkg-query, btrfs) from a dict."""

    def __init__(self) -> None:
        self.units = "Id=smbd.service\nUnitFileState=enabled\nActiveState=active"
        self.packages = "samba 2:4.17 installed\n"
        self.qgroups = QGROUPS.format(usage=4096)
        self.commands: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str]:
        self.commands.append(argv)
        if argv[0] == "systemctl":
            return 0, self.units
        if argv[0] == "dpkg-query":
            return 0, self.packages
        return 0, self.qgroups


@pytest.fixture
def system() -> FakeSystem:
    return FakeSystem()


@pytest.fixture
def watch(tmp_path: Path) -> dict[str, list[str]]:
    (tmp_path / "smb.conf").write_text("[global]\n", encoding="utf-8")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "Direction").mkdir()
    return {"files": [str(tmp_path / "smb.conf")], "directories": [str(tmp_path / "root")],
            "units": ["smbd.service"], "packages": ["samba"],
            "globs": [str(tmp_path / "root" / "*")], "qgroup_limits": ["/srv/nas"]}


def test_the_watch_of_a_host_call_covers_what_it_manages() -> None:
    params = {"files": [{"dest": "/etc/samba/smb.conf"},
                        {"dest": "/etc/samba/shares.conf", "force": False},
                        {"dest": "/etc/old.conf", "state": "absent", "force": True}],
              "secret_files": [{"dest": "/etc/nasops/a.password"}],
              "directory": {"path": "/srv/nas/org"}, "directories": [{"path": "/opt/x"}],
              "links": [{"dest": "/opt/nasops/current", "src": "releases/a"}],
              "started": ["smbd.service"], "stopped": ["nasops-backup@*.timer"],
              "packages": ["samba"], "accounts": [{"name": "nasops-exporter"}],
              "volume": "/srv/nas", "btrfs_quota": True,
              "prune": [{"directory": "/etc/systemd/system", "patterns": ["a@*.timer"]}]}
    watch = watch_of(params)
    # force: false leaves the content to another role: not this call's to watch.
    assert watch["files"] == ["/etc/nasops/a.password", "/etc/samba/smb.conf", "/etc/old.conf"]
    assert watch["directories"] == ["/srv/nas/org", "/opt/x"]
    assert watch["links"] == ["/opt/nasops/current"]
    assert watch["units"] == ["smbd.service"]
    assert watch["unit_patterns"] == ["nasops-backup@*.timer"]
    assert watch["accounts"] == ["nasops-exporter"]
    assert watch["btrfs_quota"] == ["/srv/nas"]
    assert watch["globs"] == ["/etc/systemd/system/a@*.timer"]
    assert merged_watch(watch, {"files": ["/root/.ssh/key"]}, None)["files"][-1] == "/root/.ssh/key"


def test_the_digest_is_stable_while_nothing_changes(watch: dict[str, list[str]],
                                                    system: FakeSystem) -> None:
    assert state_digest(watch, system) == state_digest(watch, system)
    # Usage changes whenever people save files: only the limits count.
    before = state_digest(watch, system)
    system.qgroups = QGROUPS.format(usage=999_999)
    assert state_digest(watch, system) == before


@pytest.mark.parametrize("change", [
    "content", "mode", "missing", "unit", "package", "limit", "new entry", "quotas off",
    "directory replaced", "parent"])
def test_every_hand_made_change_changes_the_digest(change: str, tmp_path: Path,
                                                   watch: dict[str, list[str]],
                                                   system: FakeSystem) -> None:
    before = state_digest(watch, system)
    conf = tmp_path / "smb.conf"
    if change == "content":
        conf.write_text("[global]\n   guest ok = yes\n", encoding="utf-8")
    elif change == "mode":
        conf.chmod(0o666)
    elif change == "missing":
        conf.unlink()
    elif change == "unit":
        system.units = system.units.replace("ActiveState=active", "ActiveState=failed")
    elif change == "package":
        system.packages = "samba 2:4.17 deinstall\n"
    elif change == "limit":
        system.qgroups = system.qgroups.replace("1073741824", "2147483648")
    elif change == "new entry":
        (tmp_path / "root" / "Hand-made").mkdir()
    elif change == "quotas off":
        system.qgroups = ""
    elif change == "parent":  # a share taken out of its organisation's qgroup by hand
        system.qgroups = system.qgroups.replace("none 1/7", "none -")
    elif change == "directory replaced":
        os.rename(tmp_path / "root", tmp_path / "old")
        (tmp_path / "root").mkdir()  # same name, mode and owner; another inode
        (tmp_path / "root" / "Direction").mkdir()
    assert state_digest(watch, system) != before


def test_a_managed_file_that_is_a_link_is_watched_through_the_link(
        tmp_path: Path, system: FakeSystem) -> None:
    target = tmp_path / "elsewhere.conf"
    target.write_text("[global]\n", encoding="utf-8")
    link = tmp_path / "smb.conf"
    link.symlink_to(target)
    watch = {"files": [str(link)]}
    before = state_digest(watch, system)
    target.write_text("[global]\n   server min protocol = NT1\n", encoding="utf-8")
    assert state_digest(watch, system) != before  # the modules follow the link: so does this


def test_a_forgotten_folder_s_marker_is_watched(tmp_path: Path, system: FakeSystem) -> None:
    kept = tmp_path / "Ancien"
    kept.mkdir()
    os.setxattr(kept, "trusted.nasops", b"kept")  # the suite runs as root (trusted.*)
    watch = {"markers": [str(tmp_path)]}
    before = state_digest(watch, system)
    os.removexattr(kept, "trusted.nasops")
    assert state_digest(watch, system) != before


def test_an_unreadable_state_or_record_makes_the_role_run_never_fail(
        tmp_path: Path, system: FakeSystem) -> None:
    plain = tmp_path / "current"
    plain.write_text("not a directory", encoding="utf-8")
    watch = {"files": [str(plain / ".installed")]}  # ENOTDIR: an error, not an exception
    assert state_digest(watch, system) == state_digest(watch, system)
    records = {"nas_base": {"fingerprint": "f", "watched": [
        {"watch": {"files": [1]}, "state": "x"}]},  # a hand-edited record
        "nas_release": {"fingerprint": "f", "watched": [
            {"watch": {"globs": [None]}, "state": "x"}]},
        "nas_quotas": {"fingerprint": "f", "watched": [
            {"watch": {"unknown key": ["x"]}, "state": "x"}]},
        "nas_backup": {"fingerprint": "f", "watched": [
            {"watch": {"packages": ["--admindir=/tmp/x"]}, "state": "x"}]},
        "nas_exporter": {"fingerprint": "f", "watched": [
            {"watch": {"units": ["a.service\nb"]}, "state": "x"}]}}
    assert set(current_roles(dict.fromkeys(records, "f"), records, system).values()) == {
        "no record of a converged run"}

    def broken(argv: list[str]) -> tuple[int, str]:
        raise OSError("systemctl is gone")

    assert watched({"units": ["smbd.service"]}, broken)["state"] is None  # not recordable


def test_a_role_runs_unless_its_inputs_and_its_state_match_its_record(
        watch: dict[str, list[str]], system: FakeSystem, tmp_path: Path) -> None:
    records = {"nas_base": record_of("f1", [watched(watch, system)])}
    assert current_roles({"nas_base": "f1", "nas_exporter": "f2"}, records, system) == {
        "nas_base": "", "nas_exporter": "no record of a converged run"}
    assert current_roles({"nas_base": "other"}, records, system) == {
        "nas_base": "its inputs changed"}
    (tmp_path / "smb.conf").write_text("[global]\n# by hand\n", encoding="utf-8")
    assert current_roles({"nas_base": "f1"}, records, system) == {
        "nas_base": "what it manages changed on the NAS"}
    assert current_roles({"nas_base": "f1"}, {"nas_base": {"watched": "bad"}}, system) == {
        "nas_base": "no record of a converged run"}


def test_records_are_written_atomically_for_root_only(tmp_path: Path,
                                                       watch: dict[str, list[str]],
                                                       system: FakeSystem) -> None:
    path = str(tmp_path / "state" / "converged.json")
    call = {**watched(watch, system), "facts": {"nas_release_path": "/opt/nasops/releases/a"}}
    write_records({"nas_release": record_of("f", [call])}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_records(path)["nas_release"]["facts"] == {
        "nas_release_path": "/opt/nasops/releases/a"}
    Path(path).write_text(json.dumps({"version": 99, "roles": {"x": {}}}), encoding="utf-8")
    assert read_records(path) == {}  # another format: every role runs
    Path(path).write_text("{", encoding="utf-8")
    assert read_records(path) == {}


def test_every_role_the_play_may_skip_records_itself_only_without_changes() -> None:
    play = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text(encoding="utf-8"))[0]
    check = next(task for task in play["pre_tasks"] if "nasops.nas.converged" in task)
    skippable = check["nasops.nas.converged"]["roles"]
    # The tree walk is the one full read: nas_shares always runs.
    assert "nas_shares" not in skippable
    for task in play["tasks"]:
        role = task.get("ansible.builtin.include_role", {}).get("name", "").split(".")[-1]
        if role in skippable:
            when = str(task["when"])
            assert f"nasops_converged.reasons.{role}" in when or (
                role == "nas_release" and when == "not nasops_recorded_release_usable"), role
    for role in skippable:
        text = "".join(path.read_text(encoding="utf-8")
                       for path in (ROOT / "roles" / role / "tasks").glob("*.yml"))
        assert "Note what this role manages" in text, role
        assert f"{role}_converged:" in text and ".watched" in text, role
        assert f"{role}_converged | default(none)" in str(play["post_tasks"]), role
    record = next(task for task in play["post_tasks"] if "nasops.nas.converged" in task)
    assert "nasops_record_converged | default(false)" in record["when"]
    # What runs from the release (the exporter, nasops-backup) follows a new release, whatever
    # its record says; nas_backup's repositories-only step then has nothing to do.
    for role in ("nas_exporter", "nas_backup"):
        [task] = [task for task in play["tasks"] if task.get(
            "ansible.builtin.include_role", {}).get("name") == f"nasops.nas.{role}"
            and "tasks_from" not in task["ansible.builtin.include_role"]]
        assert "or nas_release_switched | default(false)" in task["when"], role
    [repositories] = [task for task in play["tasks"] if task.get(
        "ansible.builtin.include_role", {}).get("tasks_from") == "repositories"]
    assert "not nas_release_switched | default(false)" in repositories["when"]


def test_fingerprints_cover_the_code_and_every_option(tmp_path: Path) -> None:
    for role in ("nas_base", "nas_release", "nas_accounts", "nas_quotas", "nas_sync",
                 "nas_exporter", "nas_backup"):
        assert action.option_names(role), role
    assert "nas_exporter_volume_filesystem" in action.option_names("nas_exporter")
    (tmp_path / "roles" / "r" / "tasks").mkdir(parents=True)
    (tmp_path / "plugins").mkdir()
    tasks = tmp_path / "roles" / "r" / "tasks" / "main.yml"
    tasks.write_text("---\n", encoding="utf-8")
    before = action.code_digest("r", tmp_path)
    action._CODE_DIGESTS.clear()
    tasks.write_text("---\n- name: more\n", encoding="utf-8")
    assert action.code_digest("r", tmp_path) != before
    action._CODE_DIGESTS.clear()
    desired = tmp_path / "desired.json"
    desired.write_text("{}", encoding="utf-8")
    assert action.file_digest(str(desired)).startswith("file:")


def _action(monkeypatch: pytest.MonkeyPatch, args: dict[str, object],
            answers: list[dict[str, object]]) -> action.ActionModule:
    """An ActionModule whose NAS answers come from answers (counted as they are taken).

    Stand-ins for Ansible's base run and the module call on the NAS only: what is under test
    is the plugin's own choice to read the NAS or take the saved answer (the lab suite runs
    the real plugin against real NASes)."""
    module = object.__new__(action.ActionModule)
    module._task = type("Task", (), {"args": args})()
    monkeypatch.setattr(action.ActionBase, "run", lambda self, tmp, task_vars: {})
    monkeypatch.setattr(module, "_fingerprint", lambda role, task_vars: f"print-{role}")

    def execute(module_name: str, module_args: dict[str, object],
                task_vars: dict[str, object]) -> dict[str, object]:
        assert "answer_file" not in module_args  # the controller's, never sent to the NAS
        return answers.pop(0)

    monkeypatch.setattr(module, "_execute_module", execute)
    return module


def test_apply_s_real_pass_takes_its_check_s_answer_instead_of_reading_the_nas(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answer_file = str(tmp_path / "host.json")
    check = {"roles": ["nas_base", "nas_accounts"], "answer_file": answer_file}
    nas = [{"changed": False, "reasons": {"nas_base": "", "nas_accounts": "inputs changed"},
            "facts": {"nas_base": {"nas_base_volume_filesystem": "btrfs"}}, "recorded": []}]
    first = _action(monkeypatch, dict(check), nas).run(task_vars={})
    assert first["reasons"]["nas_accounts"] == "inputs changed" and not nas
    assert stat.S_IMODE(os.stat(answer_file).st_mode) == 0o600
    # The check's record of nas_accounts (it found nothing to do) settles it in the answer.
    record = {"fingerprints": first["fingerprints"], "write": True, "answer_file": answer_file,
              "record": {"nas_accounts": [{"watch": {}, "state": "x", "facts": {"a": 1}}]}}
    _action(monkeypatch, record, [{"changed": False, "reasons": {}, "facts": {},
                                   "recorded": ["nas_accounts"]}]).run(task_vars={})
    second = _action(monkeypatch, dict(check), []).run(task_vars={})  # no NAS read left
    assert second["reused"] is True
    assert second["reasons"] == {"nas_base": "", "nas_accounts": ""}
    assert second["facts"]["nas_accounts"] == {"a": 1}
    assert second["facts"]["nas_base"] == {"nas_base_volume_filesystem": "btrfs"}


def test_an_answer_for_other_inputs_or_unreadable_is_never_taken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answer_file = tmp_path / "host.json"
    answer_file.write_text(json.dumps({"reasons": {"nas_base": ""}, "facts": {},
                                       "fingerprints": {"nas_base": "another"}}))
    nas = [{"changed": False, "reasons": {"nas_base": "inputs changed"}, "facts": {},
            "recorded": []}]
    arguments = {"roles": ["nas_base"], "answer_file": str(answer_file)}
    assert _action(monkeypatch, dict(arguments), nas).run(task_vars={})["reasons"] == {
        "nas_base": "inputs changed"}
    assert not nas  # the NAS was read
    for text in ("{", "[]", json.dumps({"reasons": [], "facts": {}, "fingerprints": {}})):
        answer_file.write_text(text)
        assert action.read_answer(str(answer_file)) is None
    assert action.read_answer("") is None and action.read_answer(None) is None


def test_the_repositories_markers_travel_with_the_answer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check asks which repositories `nasops-backup init` found; the real pass reuses it.
    answer_file = str(tmp_path / "host.json")
    markers = ["/var/lib/nasops/backup/usb.initialised", "/var/lib/nasops/backup/b.initialised"]
    check = {"roles": ["nas_backup"], "answer_file": answer_file, "present": markers}
    nas = [{"changed": False, "reasons": {"nas_backup": ""}, "facts": {}, "recorded": [],
            "present": markers[:1]}]
    assert _action(monkeypatch, dict(check), nas).run(task_vars={})["present"] == markers[:1]
    second = _action(monkeypatch, dict(check), []).run(task_vars={})
    assert second["reused"] is True and second["present"] == markers[:1]
    # A path the check did not ask about is read on the NAS.
    other = [{"changed": False, "reasons": {"nas_backup": ""}, "facts": {}, "recorded": [],
              "present": []}]
    asked = {**check, "present": ["/var/lib/nasops/backup/c.initialised"]}
    assert _action(monkeypatch, asked, other).run(task_vars={})["present"] == []
    assert not other


def test_the_play_s_markers_are_where_nas_backup_keeps_its_state() -> None:
    play = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text(encoding="utf-8"))[0]
    variables = yaml.safe_load((ROOT / "roles" / "nas_backup" / "vars" / "main.yml")
                               .read_text(encoding="utf-8"))
    from ansible.parsing.dataloader import DataLoader  # noqa: PLC0415
    from ansible.template import Templar, trust_as_template  # noqa: PLC0415

    def markers(backup: dict[str, object]) -> object:
        templar = Templar(loader=DataLoader(), variables={"nasops_desired": {"backup": backup}})
        return templar.template(trust_as_template(play["vars"]["nasops_backup_markers"]))

    directory = variables["nas_backup_state_directory"]
    assert markers({"enabled": True, "repositories": [{"name": "usb"}, {"name": "off-2"}]}) \
        == [f"{directory}/usb.initialised", f"{directory}/off-2.initialised"]
    assert markers({"enabled": False}) == []
    [repositories] = [task for task in play["tasks"] if task.get(
        "ansible.builtin.include_role", {}).get("tasks_from") == "repositories"]
    assert "nasops_backup_markers | difference(nasops_converged.present" in \
        " ".join(repositories["when"])


def test_the_nas_s_release_is_read_from_os_release(tmp_path: Path) -> None:
    from ansible_collections.nasops.nas.plugins.module_utils.converged import (  # noqa: PLC0415
        read_os_release,
    )

    path = tmp_path / "os-release"
    path.write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\n'
                    'VERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n', encoding="utf-8")
    assert read_os_release((str(path),)) == {
        "id": "debian", "version_id": "13", "version_codename": "trixie",
        "pretty_name": "Debian GNU/Linux 13 (trixie)"}
    # /etc/os-release missing: /usr/lib/os-release (os-release(5)); neither: nothing known.
    assert read_os_release((str(tmp_path / "missing"), str(path)))["version_id"] == "13"
    # What the NAS says is shown in the refusal: never a control character.
    path.write_text('ID=debian\nPRETTY_NAME="Evil\x1b[2J OS"\n', encoding="utf-8")
    assert read_os_release((str(path),))["pretty_name"] == "Evil[2J OS"
    assert read_os_release((str(tmp_path / "missing"),)) == {
        "id": "", "version_id": "", "version_codename": "", "pretty_name": ""}


def test_the_play_refuses_a_release_nasops_does_not_support() -> None:
    from ansible.parsing.dataloader import DataLoader  # noqa: PLC0415
    from ansible.template import Templar, trust_as_template  # noqa: PLC0415

    play = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text(encoding="utf-8"))[0]
    [check] = [task for task in play["pre_tasks"] if "supports" in task["name"]]
    names = [task["name"] for task in play["pre_tasks"]]
    # Right after the one read of the NAS, before any role.
    assert names.index(check["name"]) == names.index(
        "Find the roles the NAS still matches since they last converged") + 1
    assert check["ansible.builtin.assert"]["fail_msg"].startswith("refused:")

    def passes(platform: dict[str, str]) -> bool:
        templar = Templar(loader=DataLoader(), variables={
            "nasops_converged": {"platform": platform},
            "nasops_supported_debian": play["vars"]["nasops_supported_debian"]})
        return all(templar.template(trust_as_template("{{ " + condition + " }}"))
                   for condition in check["ansible.builtin.assert"]["that"])

    assert passes({"id": "debian", "version_id": "12"})
    assert passes({"id": "debian", "version_id": "13"})
    assert not passes({"id": "debian", "version_id": "11"})
    assert not passes({"id": "ubuntu", "version_id": "24.04"})
    assert not passes({})

"""The QTS data plane's scripts run by this machine's own POSIX shell, find, getfacl and
setfacl on a real directory (the transport is the only stand-in: SSH to a NAS). Its result
is checked against the Debian tree engine itself, which must find nothing to change."""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
from pathlib import Path

import pytest
from ansible_collections.nasops.nas.plugins.module_utils.acl_dump import (
    escape,
    parse_dump,
    unescape,
)
from ansible_collections.nasops.nas.plugins.module_utils.tree_engine import Converger

from nasops.qts.folder_tree import (
    FolderTreeError,
    ShellResult,
    apply_folders,
    plan_folders,
)

USER = pwd.getpwuid(65534).pw_name  # nobody
GROUP = grp.getgrgid(os.getgid()).gr_name


def local_shell(script: str) -> ShellResult:
    done = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True,
                          errors="surrogateescape", check=False)
    return ShellResult(done.returncode, done.stdout, done.stderr)


def share(root: Path, renamed: str | None = None) -> dict[str, object]:
    return {"name": "Projets", "path": str(root), "folders": [
        {"path": "", "entries": [{"kind": "group", "name": GROUP, "level": "write"},
                                 {"kind": "user", "name": USER, "level": "traverse"}]},
        {"path": "Privé", "renamed_from": renamed, "entries": [
            {"kind": "user", "name": USER, "level": "read"}]},
        {"path": "Privé/Budget 2026", "entries": [
            {"kind": "group", "name": GROUP, "level": "read"}]}]}


def getfacl(path: Path) -> str:
    return subprocess.run(["getfacl", "-p", "-n", "--", str(path)], capture_output=True,
                          text=True, check=True).stdout


def named(acl_text: str) -> list[str]:
    """The named entries (people and groups) of getfacl's text."""
    return re.findall(r"^(?:default:)?(?:user|group):\d+:.*$", acl_text, re.MULTILINE)


def debian_engine_changes(root: Path, spec_share: dict[str, object]) -> list[dict[str, str]]:
    """What Debian's tree engine, in check mode, would still change (its marker aside)."""
    folders = [{"path": folder["path"], "entries": folder["entries"]}
               for folder in spec_share["folders"]]  # type: ignore[attr-defined]
    result = Converger(str(root), folders, check_mode=True).run()
    return [change for change in result["changes"] if change["detail"] != "mark as managed"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "CACHEDEV1_DATA" / "wsm" / "Projets"
    path.mkdir(parents=True)
    return path


def test_apply_converges_people_files_and_a_second_plan_is_empty(root: Path) -> None:
    (root / "notes.txt").write_text("saved before nasops\n")
    odd = root / "a\nline é \\ = x"
    odd.write_text("strange name\n")
    plan = plan_folders(local_shell, [share(root)])
    kinds = sorted({change["kind"] for _name, change in plan.changes()})
    assert kinds == ["acl", "folder"] and not plan.refusals
    done = apply_folders(local_shell, [share(root)])
    assert "folder Projets/Privé/Budget 2026: create: group:" + GROUP in done
    assert plan_folders(local_shell, [share(root)]).changes() == []
    assert debian_engine_changes(root, share(root)) == []
    # People save, copy and make folders afterwards: what they make inherits, no drift.
    (root / "Privé" / "Budget 2026" / "tableau.ods").write_text("x")
    (root / "Privé" / "Budget 2026" / "Q1").mkdir()
    (root / "Privé" / "Budget 2026" / "Q1" / "copie.ods").write_text("y")
    assert plan_folders(local_shell, [share(root)]).changes() == []
    assert f"user:{65534}:r-x" in getfacl(root / "Privé")
    assert "mask::r--" in getfacl(odd) or "mask::rw-" in getfacl(odd)


def test_a_rename_moves_the_folder_with_its_files(root: Path) -> None:
    apply_folders(local_shell, [share(root)])
    (root / "Privé").rename(root / "Confidentiel")
    (root / "Confidentiel" / "Budget 2026" / "garde.txt").write_text("kept\n")
    plan = plan_folders(local_shell, [share(root, renamed="Confidentiel")])
    assert ("Projets", {"kind": "rename", "target": "Privé", "detail": "from Confidentiel"}
            ) in plan.changes()
    apply_folders(local_shell, [share(root, renamed="Confidentiel")])
    assert (root / "Privé" / "Budget 2026" / "garde.txt").read_text() == "kept\n"
    assert not (root / "Confidentiel").exists()


def test_a_folder_with_rights_of_its_own_is_never_widened(root: Path) -> None:
    apply_folders(local_shell, [share(root)])
    own = root / "Ancien privé"
    own.mkdir()
    subprocess.run(["setfacl", "-m", "d:u:65534:---", "-m", "u:65534:---", "-k", str(own)],
                   check=True)
    subprocess.run(["setfacl", "-m", "d:u::rwx,d:g::---,d:o::---", str(own)], check=True)
    before = getfacl(own)
    changes = plan_folders(local_shell, [share(root)]).changes()
    assert [change["kind"] for _name, change in changes] == ["unmanaged"]
    apply_folders(local_shell, [share(root)])
    assert getfacl(own) == before


def test_a_link_is_never_followed_and_one_appearing_mid_run_stops_the_write(
        root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not the share's\n")
    outside.chmod(0o644)
    (root / "lien").symlink_to(outside)
    apply_folders(local_shell, [share(root)])
    assert oct(outside.stat().st_mode & 0o777) == "0o644" and not named(getfacl(outside))
    (root / "Privé" / "nouveau.txt").write_text("z")  # gives the next run an ACL to write
    (root / "Privé" / "nouveau.txt").chmod(0o666)

    def swapping_shell(script: str) -> ShellResult:
        if "setfacl --restore" in script:
            (root / "Privé" / "piège").symlink_to(outside)
        return local_shell(script)

    with pytest.raises(FolderTreeError, match="a link appeared"):
        apply_folders(swapping_shell, [share(root)])
    assert not named(getfacl(outside))


def test_unknown_people_and_a_missing_share_are_refused_before_any_write(root: Path,
                                                                        tmp_path: Path) -> None:
    spec_share = share(root)
    spec_share["folders"][0]["entries"].append(  # type: ignore[index]
        {"kind": "user", "name": "personne-inconnue", "level": "read"})
    with pytest.raises(FolderTreeError, match="unknown on the NAS: user personne-inconnue"):
        apply_folders(local_shell, [spec_share])
    assert not (root / "Privé").exists()
    absent = share(tmp_path / "absent")
    assert plan_folders(local_shell, [absent]).changes()[0][1]["detail"].startswith(
        "the share's folder is not on the NAS")
    with pytest.raises(FolderTreeError, match="is not on the NAS"):
        apply_folders(local_shell, [absent])


def test_names_round_trip_through_getfacl_escaping() -> None:
    for name in ("/a b/é", "/x\ny", "/back\\slash", "/\udcff-not-utf8", "/# file: x"):
        assert unescape(escape(name)) == name
        assert "\n" not in escape(name)
    assert unescape("/c\\\\d\\303\\251") == "/c\\dé"  # getfacl doubles a backslash
    text = "# file: /s/a\\012b\n# owner: 0\n# group: 0\nuser::rwx\nuser:7:r-x\t#effective:r--\n"
    text += "group::---\nmask::r--\nother::---\ndefault:user::rwx\n"
    (item,) = parse_dump(text, folders=True)
    assert item.path == "/s/a\nb" and (2, 7, 5) in item.access and item.default
    with pytest.raises(ValueError, match="names an account"):
        parse_dump("# file: /s\n# owner: 0\nuser:bob:rwx\n", folders=True)
    with pytest.raises(ValueError, match="file with a default ACL"):
        parse_dump("# file: /s\n# owner: 0\nuser::rwx\ndefault:user::rwx\n", folders=False)

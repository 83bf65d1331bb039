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
    MARKER_ID,
    parse_dump,
    unescape,
)
from ansible_collections.nasops.nas.plugins.module_utils.tree_engine import Converger

from nasops.qts.answers import Account, Share, ShareList
from nasops.qts.data_plane import spec_shares
from nasops.qts.facts import QtsFacts
from nasops.qts.folder_scripts import local_shell
from nasops.qts.folder_tree import (
    FolderTreeError,
    ShellResult,
    apply_folders,
    plan_folders,
)
from nasops.spec import load_spec

USER = pwd.getpwuid(65534).pw_name  # nobody
GROUP = grp.getgrgid(os.getgid()).gr_name




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
    """What Debian's tree engine, in check mode, would still change (each platform's own
    mark aside: Debian's xattr, QTS's ACL entry)."""
    folders = [{"path": folder["path"], "entries": folder["entries"]}
               for folder in spec_share["folders"]]  # type: ignore[attr-defined]
    result = Converger(str(root), folders, check_mode=True).run()
    return [change for change in result["changes"] if change["detail"] != "mark as managed"
            and any(str(MARKER_ID) not in part for part in change["detail"].split(", "))]


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
    done = apply_folders(local_shell, [share(root)]).words
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


def test_a_folder_that_left_the_spec_is_never_widened_even_renamed_by_people(
        root: Path) -> None:
    apply_folders(local_shell, [share(root)])
    (root / "Privé" / "Budget 2026" / "comptes.ods").write_text("x")
    narrower = share(root)
    narrower["folders"] = narrower["folders"][:2]  # type: ignore[index]
    (root / "Privé" / "Budget 2026").rename(root / "Privé" / "Budget (archive)")
    before = getfacl(root / "Privé" / "Budget (archive)")
    changes = plan_folders(local_shell, [narrower]).changes()
    assert ("Projets", {"kind": "unmanaged", "target": "Privé/Budget (archive)", "detail":
                        "marked managed but not in the spec: kept as is"}) in changes
    apply_folders(local_shell, [narrower])
    assert getfacl(root / "Privé" / "Budget (archive)") == before
    assert plan_folders(local_shell, [narrower]).changes() == [
        ("Projets", {"kind": "unmanaged", "target": "Privé/Budget (archive)",
                     "detail": "marked managed but not in the spec: kept as is"})]


def test_people_s_folders_follow_a_narrowed_right_and_a_move_into_a_private_folder(
        root: Path) -> None:
    apply_folders(local_shell, [share(root)])
    (root / "Travail").mkdir()  # made by people: inherits the share's rights
    (root / "Travail" / "plan.txt").write_text("x")
    narrowed = share(root)
    narrowed["folders"][0]["entries"] = [  # type: ignore[index]
        {"kind": "group", "name": GROUP, "level": "read"},
        {"kind": "user", "name": USER, "level": "traverse"}]
    apply_folders(local_shell, [narrowed])
    assert f"default:group:{os.getgid()}:r-x" in getfacl(root / "Travail")
    assert f"group:{os.getgid()}:rw-" not in getfacl(root / "Travail" / "plan.txt")
    # Moved over SMB into a private folder: it takes that folder's rights, as on Debian.
    (root / "Travail").rename(root / "Privé" / "Travail")
    apply_folders(local_shell, [narrowed])
    assert "user:65534:r-x" in getfacl(root / "Privé" / "Travail")
    assert f"group:{os.getgid()}:" not in getfacl(root / "Privé" / "Travail")
    assert debian_engine_changes(root, narrowed) == []


def test_links_are_never_followed_and_a_changed_link_set_stops_the_write(
        root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("not the share's\n")
    (root / "lien").symlink_to(outside / "victim.txt")
    (root / "Ancien").symlink_to(outside)
    apply_folders(local_shell, [share(root)])
    assert not named(getfacl(outside)) and not named(getfacl(outside / "victim.txt"))
    (root / "Privé" / "nouveau.txt").write_text("z")  # gives the next run an ACL to write
    (root / "Privé" / "nouveau.txt").chmod(0o666)
    (root / "Privé" / "Dossier").mkdir()
    (root / "Privé" / "Dossier").chmod(0o777)

    def swapping_shell(script: str) -> ShellResult:
        # Between nasops' read and its write someone swaps a folder for a link, removing
        # another link so that the number of links stays the same.
        if "setfacl -P --set" in script and (root / "lien").is_symlink():
            (root / "lien").unlink()
            (root / "Privé" / "Dossier").rmdir()
            (root / "Privé" / "Dossier").symlink_to(outside)
        return local_shell(script)

    with pytest.raises(FolderTreeError, match=r"links in .* changed while nasops worked"):
        apply_folders(swapping_shell, [share(root)])
    assert not named(getfacl(outside)) and not named(getfacl(outside / "victim.txt"))


def test_a_file_named_to_pose_as_a_folder_changes_nothing_else(root: Path) -> None:
    apply_folders(local_shell, [share(root)])
    private = root / "Privé"
    before = getfacl(private)
    (root / "Privé\u2028#x").write_text("a line separator and a comment after it")
    (root / "Rapport\u2028final\x0b.docx").write_text("x")
    changes = [change for _name, change in plan_folders(local_shell, [share(root)]).changes()]
    assert {change["target"] for change in changes} <= {
        "Privé\u2028#x", "Rapport\u2028final\x0b.docx"}, changes
    apply_folders(local_shell, [share(root)])
    assert getfacl(private) == before
    assert plan_folders(local_shell, [share(root)]).changes() == []


def test_nested_renames_setgid_bits_and_hostile_names_in_scripts(root: Path,
                                                                 tmp_path: Path) -> None:
    (root / "Ancien").mkdir()
    (root / "Ancien" / "Vieux budget").mkdir()
    (root / "Ancien" / "Vieux budget" / "garde.txt").write_text("kept\n")
    root.chmod(0o2770)
    renamed = share(root, renamed="Ancien")
    renamed["folders"][2]["renamed_from"] = "Vieux budget"  # type: ignore[index]
    apply_folders(local_shell, [renamed])
    assert (root / "Privé" / "Budget 2026" / "garde.txt").read_text() == "kept\n"
    assert root.stat().st_mode & 0o2000, "setfacl --set keeps the setgid bit"
    # A folder whose name is shell code, refused because its target appeared meanwhile.
    hostile = share(root)
    hostile["folders"].append(  # type: ignore[attr-defined]
        {"path": "$(touch PWNED)`touch PWNED2`", "renamed_from": "x'y", "entries": []})
    (root / "x'y").mkdir()

    def appearing_shell(script: str) -> ShellResult:
        if "mv --" in script:
            (root / "$(touch PWNED)`touch PWNED2`").mkdir()
        return local_shell(script)

    with pytest.raises(FolderTreeError, match="appeared meanwhile"):
        apply_folders(appearing_shell, [hostile])
    assert not list(tmp_path.rglob("PWNED*")) and not Path("PWNED").exists()


def test_a_refused_read_is_an_error_even_beside_a_file_people_removed(root: Path) -> None:
    def refusing_shell(script: str) -> ShellResult:
        done = local_shell(script)
        return ShellResult(done.returncode, done.stdout, "getfacl: /x: Permission denied\n"
                           "setfacl: /y: No such file or directory\n")

    with pytest.raises(FolderTreeError, match="Permission denied"):
        plan_folders(refusing_shell, [share(root)])


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


def test_names_come_back_from_getfacl_s_own_output(tmp_path: Path) -> None:
    names = ["a b é", "x\ny", "back\\slash", "\udcff-not-utf8", "# file: x", "tab\there"]
    for name in names:
        (tmp_path / name).write_text("x")
    dump = local_shell(f"LC_ALL=C getfacl -p -n -- {tmp_path}/*").stdout
    assert {Path(item.path).name for item in parse_dump(dump, folders=False)} == set(names)
    assert unescape("/c\\\\d\\303\\251") == "/c\\dé"  # getfacl doubles a backslash
    text = "# file: /s/a\\012b\n# owner: 0\n# group: 0\nuser::rwx\nuser:7:r-x\t#effective:r--\n"
    text += "group::---\nmask::r--\nother::---\ndefault:user::rwx\n"
    (item,) = parse_dump(text, folders=True)
    assert item.path == "/s/a\nb" and (2, 7, 5) in item.access and item.default
    with pytest.raises(ValueError, match="names an account"):
        parse_dump("# file: /s\n# owner: 0\nuser:bob:rwx\n", folders=True)
    with pytest.raises(ValueError, match="file with a default ACL"):
        parse_dump("# file: /s\n# owner: 0\nuser::rwx\ndefault:user::rwx\n", folders=False)


def test_the_spec_s_shares_and_names_are_spelled_as_the_nas_spells_them() -> None:
    loaded = load_spec(Path(__file__).parents[2] / "inventory/qts/wsm.yml")
    decomposed = "E\u0301ducation"  # QTS may keep the accent decomposed
    facts = QtsFacts(firmware=None, users=[Account("PVanDamme", 1000)],
                     groups=[Account("Direction", 1001)],
                     shares=ShareList([Share(decomposed, False)], True, False, True))
    shares = {share["name"]: share for share in spec_shares(loaded, facts)}
    assert shares[decomposed]["path"] == "/share/CACHEDEV1_DATA/" + decomposed
    assert shares["Afrique"]["path"] == "/share/CACHEDEV1_DATA/Afrique"  # made by apply
    names = {entry["name"] for share in shares.values() for folder in share["folders"]
             for entry in folder["entries"]}
    assert {"PVanDamme", "Direction"} <= names and not {"pvandamme", "direction"} & names


def test_the_first_apply_never_widens_a_folder_restricted_by_hand(root: Path) -> None:
    (root / "Salaires").mkdir()
    (root / "Salaires").chmod(0o700)
    (root / "Ouvert").mkdir()
    (root / "Ouvert").chmod(0o777)  # open to everyone: nasops' rights widen nobody there
    subprocess.run(["setfacl", "-m", "u:65534:rwx", str(root / "Salaires")], check=True)
    plan = plan_folders(local_shell, [share(root)])
    assert [refusal for refusal in plan.refusals if "Ouvert" in refusal] == []
    assert any("Salaires has rights set by hand that the first apply would widen (for "
               f"{GROUP})" in refusal for refusal in plan.refusals), plan.refusals
    with pytest.raises(FolderTreeError, match="Salaires has rights set by hand"):
        apply_folders(local_shell, [share(root)])
    assert named(getfacl(root / "Salaires")) == ["user:65534:rwx"]
    # Listed in the spec with its rights, it is managed: the first apply goes ahead, and
    # afterwards folders take their parent's rights as on Debian.
    listed = share(root)
    listed["folders"].append({"path": "Salaires", "entries": [  # type: ignore[attr-defined]
        {"kind": "user", "name": USER, "level": "write"}]})
    apply_folders(local_shell, [listed])
    assert plan_folders(local_shell, [listed]).changes() == []
    assert f"group:{os.getgid()}:" not in getfacl(root / "Salaires")


def test_qts_own_folders_are_left_alone_and_a_link_path_with_a_line_break_is_refused(
        root: Path, tmp_path: Path) -> None:
    recycled = root / "@Recycle" / "Privé"
    recycled.mkdir(parents=True)
    (recycled / "ancien.txt").write_text("x")
    before = getfacl(recycled / "ancien.txt")
    apply_folders(local_shell, [share(root)])
    assert getfacl(recycled / "ancien.txt") == before
    odd = root / "Privé" / "X\n"
    odd.mkdir()
    (odd / "lien").symlink_to(tmp_path)
    plan = plan_folders(local_shell, [share(root)])
    assert any("a link's path there holds a line break" in refusal
               for refusal in plan.refusals), plan.refusals


def test_a_volume_mounted_without_acls_is_refused_naming_the_qts_setting(root: Path) -> None:
    def noacl_shell(script: str) -> ShellResult:
        done = local_shell(script)
        line = f"99 1 0:99 / {root.parent} rw,relatime - ext4 /dev/mapper/cachedev1 rw,noacl"
        return ShellResult(done.returncode, done.stdout.replace(
            "@@nasops mounts\n", f"@@nasops mounts\n{line}\n", 1), done.stderr)

    plan = plan_folders(noacl_shell, [share(root)])
    assert any("mounted without POSIX ACLs (noacl): turn Advanced Folder Permissions on "
               "(Control Panel > Privilege > Shared Folders > Advanced Permissions)" in refusal
               for refusal in plan.refusals), plan.refusals
    with pytest.raises(FolderTreeError, match="noacl"):
        apply_folders(noacl_shell, [share(root)])
    assert not (root / "Privé").exists()
    # A share the web API has not made yet is refused too: apply's web writes come first.
    unmade = share(root.parent / "Nouveau")
    assert any("noacl" in refusal for refusal in plan_folders(noacl_shell, [unmade]).refusals)


def test_a_large_first_apply_lists_500_changes_and_counts_the_rest(root: Path) -> None:
    for number in range(620):
        (root / f"fichier {number:03d}.odt").write_text("x")
    changes = plan_folders(local_shell, [share(root)]).changes()
    assert len(changes) == 501 and changes[-1][1]["what"] == "more"  # 500, then a count
    done = apply_folders(local_shell, [share(root)]).words
    assert done[-1].startswith("rights of ") and done[-1].endswith(
        " more files and folders in Projets (not listed)"), done[-1]
    assert len(done) == 2 + 501  # two folders made; then 500 rights listed, a line for the rest
    assert plan_folders(local_shell, [share(root)]).changes() == []


def test_the_first_apply_guard_sees_denies_and_owning_groups(root: Path) -> None:
    denied = root / "Refusé"
    denied.mkdir()
    denied.chmod(0o777)  # open to everyone, except the group the spec gives write
    subprocess.run(["setfacl", "-m", f"g:{os.getgid()}:---", str(denied)], check=True)
    owned = root / "Du groupe"
    owned.mkdir()
    owned.chmod(0o770)  # its owning group already changes it: nasops widens nobody
    os.chown(owned, -1, os.getgid())
    refusals = plan_folders(local_shell, [share(root)]).refusals
    assert any(refusal.startswith("share 'Projets': refused: Refusé has rights set by hand")
               for refusal in refusals), refusals
    assert not [refusal for refusal in refusals if "Du groupe" in refusal], refusals

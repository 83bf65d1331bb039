"""What the nas_sync role does on disk: markers, ignore files and mount points of the synced
folders (module nasops.nas.sync_folders), and the ACL keeper that gives files arriving by sync
their folder's ACL (nasops.sync.acl_keeper). Real runs on a temporary tree; the ACL parts need
root and a file system with POSIX ACLs (they use the existing groups staff and adm)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible_collections.nasops.nas.plugins.modules import sync_folders as folders_module

from nasops.sync import acl_keeper as keeper


def getfacl(path: Path, *options: str) -> set[str]:
    output = subprocess.run(["getfacl", "-cpE", *options, str(path)], capture_output=True,
                            text=True, check=True).stdout
    return set(output.split())


@pytest.fixture
def managed(tmp_path: Path) -> Path:
    """A folder with a nasops-like default ACL (staff write, adm read); root and ACLs only."""
    if os.geteuid() != 0 or shutil.which("setfacl") is None:
        pytest.skip("needs root and setfacl/getfacl")
    folder = tmp_path / "Afrique"
    folder.mkdir()
    entries = "u::rwx,g::---,o::---,g:staff:rwx,g:adm:r-x,m::rwx"
    for options in (["-m", entries], ["-d", "-m", entries]):
        if subprocess.run(["setfacl", *options, str(folder)], check=False).returncode:
            pytest.skip("file system without POSIX ACLs")
    return folder


def synced(tmp_path: Path, path: Path, excluded: list[str]) -> list[dict[str, object]]:
    return [{"id": "wsm-afrique-96c442-rw", "path": str(path), "type": "sendreceive",
             "excluded": excluded},
            {"id": "wsm-afrique-96c442-ro", "path": str(path), "type": "sendonly",
             "excluded": excluded}]


def test_markers_ignore_files_and_mount_points_are_made_once(tmp_path: Path) -> None:
    share, views = tmp_path / "Afrique", tmp_path / "home" / "folders"
    share.mkdir()
    wanted = synced(tmp_path, share, ["Finances", "Partenaires/Bénin"])
    planned = folders_module.converge(wanted, str(views), check=True)
    assert not views.exists() and not (share / ".stfolder").exists()
    made = folders_module.converge(wanted, str(views), check=False)
    assert made == planned
    assert (views / "wsm-afrique-96c442-rw").is_dir() and (views / "wsm-afrique-96c442-ro").is_dir()
    assert (share / ".stfolder").is_dir()
    assert (share / ".stignore").read_text(encoding="utf-8").splitlines()[1:] == [
        "/Finances", "/Partenaires/Bénin"]
    assert folders_module.converge(wanted, str(views), check=False) == []
    # Someone edits the ignore file over SMB: the next run puts it back, and says so.
    (share / ".stignore").write_text("", encoding="utf-8")
    again = folders_module.converge(wanted, str(views), check=False)
    assert [change["detail"] for change in again] == ["ignore /Finances, /Partenaires/Bénin"]
    assert not list(share.glob(".syncthing.*"))


def test_a_missing_share_is_an_error_except_in_check_mode(tmp_path: Path) -> None:
    wanted = synced(tmp_path, tmp_path / "missing", [])
    assert len(folders_module.converge(wanted, str(tmp_path / "views"), check=True)) == 5
    with pytest.raises(FileNotFoundError, match="nas_shares role creates"):
        folders_module.converge(wanted, str(tmp_path / "views"), check=False)
    mixed = [wanted[0], {**wanted[1], "excluded": ["Finances"]}]
    with pytest.raises(ValueError, match="leave out different subfolders"):
        folders_module.converge(mixed, str(tmp_path / "views"), check=True)


def test_the_ignore_file_and_marker_get_the_acl_the_tree_would_give_them(managed: Path,
                                                                         ) -> None:
    folders_module.converge(synced(managed, managed, ["Finances"]), str(managed.parent / "v"),
                            check=False)
    assert getfacl(managed / ".stignore") == {
        "user::rw-", "group::---", "group:staff:rw-", "group:adm:r--", "mask::rw-",
        "other::---"}
    # A folder people make inside a managed one carries its default ACL as both ACLs.
    default = getfacl(managed, "-d")  # printed without the default: prefix
    assert getfacl(managed / ".stfolder") == default | {f"default:{line}" for line in default}


def test_the_keeper_gives_a_synced_file_its_folders_file_acl_once(managed: Path) -> None:
    arrived = managed / "from-the-field.txt"
    # What Syncthing does: create a temporary file with mode 0666 and rename it in place.
    descriptor = os.open(managed / ".syncthing.tmp", os.O_WRONLY | os.O_CREAT, 0o666)
    os.close(descriptor)
    os.replace(managed / ".syncthing.tmp", arrived)
    assert "group:staff:rwx" in getfacl(arrived)  # the x the directories' default carries
    assert keeper.keep_acl(str(arrived)) is True
    assert getfacl(arrived) == {"user::rw-", "group::---", "group:staff:rw-", "group:adm:r--",
                                "mask::rw-", "other::---"}
    assert keeper.keep_acl(str(arrived)) is False


def test_the_keeper_leaves_links_others_files_and_unmanaged_folders_alone(managed: Path,
                                                                           ) -> None:
    target = managed / "target.txt"
    target.write_text("x", encoding="utf-8")
    before = getfacl(target)
    link = managed / "link.txt"
    link.symlink_to(target)
    assert keeper.keep_acl(str(link)) is False
    os.chown(target, 1, -1)  # not the keeper's own file (it runs as the sync account)
    assert keeper.keep_acl(str(target)) is False
    assert getfacl(target) == before
    plain = managed.parent / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    assert keeper.keep_acl(str(plain)) is False  # no default ACL above it: not managed
    assert keeper.keep_acl(str(managed / "gone.txt")) is False

"""nasops.nas.tree and its engine: pure mapping functions, then real runs on a temporary tree.

The real runs need root and a file system with POSIX ACLs and user xattrs (ext4 here); they use
existing system accounts (groups staff, adm, users, mail; users daemon, bin) so nothing is created.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from ansible_collections.nasops.nas.plugins.module_utils import acl
from ansible_collections.nasops.nas.plugins.module_utils import forget as forgetting
from ansible_collections.nasops.nas.plugins.module_utils import tree_engine as tree
from ansible_collections.nasops.nas.plugins.module_utils import tree_plan as plan

from nasops.collection import collection_root, collections_path

ROLE = Path(__file__).resolve().parents[2] / "roles" / "nas_shares"





U = acl.UNDEFINED_ID
STAFF, ADM, USERS = 50, 4, 100


def _names(tag: int, number: int) -> str:
    return {(acl.GROUP, 50): "staff", (acl.GROUP, 4): "adm", (acl.USER, 1): "daemon"}.get(
        (tag, number), str(number))


def _acls_supported(directory: Path) -> bool:
    probe = directory / "probe"
    probe.mkdir()
    try:
        done = subprocess.run(["setfacl", "-m", "g:staff:rwx", str(probe)], capture_output=True,
                              check=False)
        os.setxattr(probe, "trusted.nasops", b"probe")
    except (OSError, FileNotFoundError):
        return False
    finally:
        shutil.rmtree(probe)
    return done.returncode == 0


@pytest.fixture
def share(tmp_path: Path) -> Path:
    """An empty place for a share on an ACL-capable file system (root only)."""
    if os.geteuid() != 0 or shutil.which("setfacl") is None:
        pytest.skip("needs root and setfacl/getfacl")
    if not _acls_supported(tmp_path):
        pytest.skip("file system without POSIX ACLs or user xattrs")
    return tmp_path / "Afrique"


def getfacl(path: Path) -> list[str]:
    """Given a path, return its ACL as getfacl prints it, without the header."""
    return subprocess.run(["getfacl", "-p", "-c", str(path)], capture_output=True, text=True,
                          check=True).stdout.split()


def entries(*items: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"kind": kind, "name": name, "level": level} for kind, name, level in items]


def folder(path: str, *items: tuple[str, str, str], renamed_from: str | None = None) -> dict:
    return {"path": path, "renamed_from": renamed_from, "entries": entries(*items)}


def converge(root: Path, folders: list[dict], *, check: bool = False, **options: object) -> dict:
    return tree.Converger(str(root), folders, check_mode=check, **options).run()


def kinds(result: dict) -> list[tuple[str, str]]:
    return [(change["kind"], change["target"]) for change in result["changes"]]


SPEC = [
    folder("", ("group", "staff", "write"), ("group", "adm", "traverse")),
    folder("Finances", ("group", "staff", "read"), ("group", "adm", "write"),
           ("user", "daemon", "none")),
    folder("Finances/Audit", ("group", "adm", "read")),
]


# -- pure functions -------------------------------------------------------------------------

def test_binary_acl_round_trips_against_getfacl(share: Path) -> None:
    share.mkdir()
    target = share / "file"
    target.write_text("x")
    subprocess.run(["setfacl", "-m", "u:daemon:rw,u:bin:r,g:staff:rwx,g:adm:-,m::rw",
                    str(target)], check=True)
    data = os.getxattr(target, acl.ACCESS_XATTR)
    decoded = acl.decode_acl(data)
    numeric = subprocess.run(["getfacl", "--numeric", "-c", str(target)], capture_output=True,
                             text=True, check=True).stdout.split()
    # getfacl adds "#effective:" comments; compare the entries themselves.
    expected = [line for line in numeric if ":" in line and not line.startswith("#")]
    mine = acl.acl_text(decoded, lambda _tag, number: str(number))
    assert mine == expected
    assert acl.encode_acl(decoded) == data
    assert acl.encode_acl(reversed(decoded)) == data  # the encoder sorts


def test_decode_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="version"):
        acl.decode_acl(b"\x01\0\0\0")
    with pytest.raises(ValueError, match="whole number"):
        acl.decode_acl(b"\x02\0\0\0\x01")
    with pytest.raises(ValueError, match="unresolved"):
        acl.encode_acl([(acl.GROUP, U + 1, 7)])


def test_minimal_acl_from_mode() -> None:
    assert acl.acl_from_mode(0o100640) == ((acl.USER_OBJ, U, 6), (acl.GROUP_OBJ, U, 4),
                                           (acl.OTHER, U, 0))


@pytest.mark.parametrize(("level", "access", "default"), [
    ("write", 7, 7), ("read", 5, 5), ("traverse", 5, None), ("none", 0, 0),
])
def test_mapping_table_for_managed_folders(level: str, access: int, default: int | None) -> None:
    dir_access, dir_default = acl.managed_dir_acls([(acl.GROUP, STAFF, level)])
    assert (acl.GROUP, STAFF, access) in dir_access
    named_defaults = [entry for entry in dir_default if entry[0] == acl.GROUP]
    assert named_defaults == ([] if default is None else [(acl.GROUP, STAFF, default)])
    base = {(acl.USER_OBJ, U, 7), (acl.GROUP_OBJ, U, 0), (acl.OTHER, U, 0), (acl.MASK, U, 7)}
    assert base <= set(dir_access)


def test_mask_only_next_to_named_entries() -> None:
    # A lone mask would become the owning group's mode bits (wsm-users: everybody).
    access, default = acl.managed_dir_acls([])
    assert [tag for tag, _, _ in access] == [acl.USER_OBJ, acl.GROUP_OBJ, acl.OTHER]
    assert [tag for tag, _, _ in default] == [acl.USER_OBJ, acl.GROUP_OBJ, acl.OTHER]
    traverse_only, default = acl.managed_dir_acls([(acl.GROUP, ADM, "traverse")])
    assert (acl.MASK, U, 7) in traverse_only and acl.MASK not in [e[0] for e in default]


def test_files_get_rights_without_x_unless_the_owner_has_it() -> None:
    _, default = acl.managed_dir_acls([(acl.GROUP, STAFF, "write"), (acl.GROUP, ADM, "read"),
                                       (acl.USER, 1, "none"), (acl.GROUP, USERS, "traverse")])
    plain = acl.file_acl(default, 6)
    assert plain == tuple(sorted([(acl.USER_OBJ, U, 6), (acl.USER, 1, 0), (acl.GROUP_OBJ, U, 0),
                                  (acl.GROUP, ADM, 4), (acl.GROUP, STAFF, 6),
                                  (acl.MASK, U, 6), (acl.OTHER, U, 0)]))
    executable = acl.file_acl(default, 7)
    assert (acl.GROUP, STAFF, 7) in executable and (acl.GROUP, ADM, 5) in executable
    assert (acl.MASK, U, 7) in executable and (acl.USER, 1, 0) in executable
    reader_only = acl.file_acl(acl.managed_dir_acls([(acl.GROUP, ADM, "read")])[1], 6)
    assert (acl.MASK, U, 4) in reader_only  # mask = union of named entries


def test_inner_folders_inherit_the_default_acl() -> None:
    _, default = acl.managed_dir_acls([(acl.GROUP, STAFF, "read")])
    assert acl.inner_dir_acls(default) == (default, default)


def test_diff_text() -> None:
    before = ((acl.USER_OBJ, U, 7), (acl.GROUP, 50, 5), (acl.GROUP, 4, 7), (acl.OTHER, U, 5))
    after = ((acl.USER_OBJ, U, 7), (acl.GROUP, 50, 7), (acl.OTHER, U, 0))
    assert acl.acl_diff(before, after, _names) == [
        "group:adm:rwx -> absent", "group:staff:r-x -> rwx", "other::r-x -> ---"]
    assert acl.acl_diff((), after[:1], _names, "default:") == ["default:user::absent -> rwx"]


def test_folder_validation_lists_every_problem() -> None:
    _, problems = plan.normalise_folders([
        folder("A/B"), folder("A"), folder("A"), folder("../x"),
        folder("C", renamed_from="x/y"), folder("D", renamed_from="A"),
        {"path": "E", "entries": [{"kind": "robot", "name": "r2", "level": "write"}]},
        folder("F", ("group", "staff", "read"), ("group", "staff", "write")),
    ])
    text = "\n".join(problems)
    for expected in ("not pre-order", "appears twice", "'../x'", "former name",
                     "still listed", "kind user|group", "group 'staff' appears twice"):
        assert expected in text
    folders, problems = plan.normalise_folders([{**folder("", ("user", "bin", "read")), "x": 1}])
    assert problems == [] and folders[0]["entries"] == [("user", "bin", "read")]


def _fake_lstat(existing: set[str]) -> Callable[[str], os.stat_result | None]:
    directory = os.stat_result((stat.S_IFDIR | 0o770, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    return lambda path: directory if path in existing else None


def test_rename_plan_follows_parent_renames() -> None:
    folders, _ = plan.normalise_folders([folder(""), folder("New", renamed_from="Old"),
                                         folder("New/Kid", renamed_from="Child"),
                                         folder("Fresh", renamed_from="Gone")])
    result = plan.plan_tree("/s", "/former", folders,
                            _fake_lstat({"/former", "/former/Old", "/former/Old/Child"}))
    assert result.share_rename == "/former"
    assert result.renames == [("", "Old", "New"), ("New", "Child", "Kid")]
    assert result.missing == ["Fresh"] and result.refusals == []
    assert "rename source /former/Gone not found" in result.warnings[0]
    strict = plan.plan_tree("/s", None, folders, _fake_lstat({"/s", "/s/New", "/s/New/Kid"}),
                            refuse_missing=True)
    assert strict.renames == [] and strict.refusals == [
        "refused: rename source /s/Gone not found (nor /s/Fresh)"]


def test_mountinfo_escapes() -> None:
    text = ("22 1 254:0 / / rw - ext4 /dev/vda rw\n"
            "90 22 0:50 / /srv/nas/wsm/Afrique/with\\040space rw - tmpfs tmpfs rw\n"
            "91 22 0:51 / /srv/nas/wsm/Afrique2 rw - tmpfs tmpfs rw\n")
    assert plan.parse_mountinfo(text, "/srv/nas/wsm/Afrique") == {
        "/srv/nas/wsm/Afrique/with space"}


# -- real runs ------------------------------------------------------------------------------

def test_first_run_creates_and_sets_acls_second_run_changes_nothing(share: Path) -> None:
    check = converge(share, SPEC, check=True)
    assert not share.exists()
    assert check["changed"] and kinds(check) == [("folder", "."), ("folder", "Finances"),
                                                 ("folder", "Finances/Audit")]
    assert check["changes"][0]["detail"] == "create: group:adm:r-x, group:staff:rwx"
    first = converge(share, SPEC)
    assert first["changed"] and kinds(first) == kinds(check)
    assert first["counts"]["acl_written"] == check["counts"]["acl_written"] == 3
    assert getfacl(share) == [
        "user::rwx", "group::---", "group:adm:r-x", "group:staff:rwx", "mask::rwx", "other::---",
        "default:user::rwx", "default:group::---", "default:group:staff:rwx",
        "default:mask::rwx", "default:other::---"]
    assert getfacl(share / "Finances") == [
        "user::rwx", "user:daemon:---", "group::---", "group:adm:rwx", "group:staff:r-x",
        "mask::rwx", "other::---", "default:user::rwx", "default:user:daemon:---",
        "default:group::---", "default:group:adm:rwx", "default:group:staff:r-x",
        "default:mask::rwx", "default:other::---"]
    assert os.getxattr(share / "Finances/Audit", "trusted.nasops") == b"managed"
    assert stat.S_IMODE(os.stat(share / "Finances/Audit").st_mode) == 0o770  # mask shows as g
    second = converge(share, SPEC)
    assert not second["changed"] and second["changes"] == []
    assert second["counts"]["acl_written"] == 0 and second["counts"]["managed"] == 3


def test_copied_files_get_group_write_back(share: Path, tmp_path: Path) -> None:
    converge(share, SPEC)
    source = tmp_path / "report.txt"
    source.write_text("rapport")
    source.chmod(0o600)
    subprocess.run(["sh", "-c", f"umask 077 && cp '{source}' '{share}/' && "
                    f"mkdir '{share}/Photos' && cp '{source}' '{share}/Photos/'"], check=True)
    assert "mask::---" in getfacl(share / "report.txt")  # the create mode cut staff's write
    result = converge(share, SPEC)
    assert ("acl", "report.txt") in kinds(result) and ("acl", "Photos/report.txt") in kinds(
        result)
    for copied in (share / "report.txt", share / "Photos/report.txt"):
        assert getfacl(copied) == ["user::rw-", "group::---", "group:staff:rw-", "mask::rw-",
                                   "other::---"]
    assert "group:staff:rwx" in getfacl(share / "Photos")
    assert converge(share, SPEC)["changed"] is False


def test_executables_keep_x_for_readers(share: Path) -> None:
    converge(share, SPEC)
    script = share / "Finances/run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o700)
    converge(share, SPEC)
    assert "group:staff:r-x" in getfacl(script) and "group:adm:rwx" in getfacl(script)
    assert "user:daemon:---" in getfacl(script)


def test_hand_widened_folder_is_reported_then_reverted(share: Path) -> None:
    converge(share, SPEC)
    subprocess.run(["setfacl", "-m", "g:staff:rwx", str(share / "Finances")], check=True)
    check = converge(share, SPEC, check=True)
    assert check["changed"] and check["changes"] == [
        {"kind": "acl", "target": "Finances", "detail": "group:staff:rwx -> r-x"}]
    assert "group:staff:rwx" in getfacl(share / "Finances")  # check mode wrote nothing
    [diff] = check["diff"]  # one before/after pair per listed change, named by its target
    assert diff["before_header"] == diff["after_header"] == "Finances"
    assert "group:staff:rwx" in diff["before"] and "group:staff:r-x" in diff["after"]
    fixed = converge(share, SPEC)
    assert fixed["changes"] == check["changes"]
    assert "group:staff:r-x" in getfacl(share / "Finances")


def test_rename_in_place_keeps_contents(share: Path) -> None:
    converge(share, SPEC)
    (share / "Finances/Audit/2024.csv").write_text("1;2;3\n")
    converge(share, SPEC)
    inode = os.stat(share / "Finances").st_ino
    renamed = [SPEC[0], folder("Compta", *[(e["kind"], e["name"], e["level"])
                                           for e in SPEC[1]["entries"]], renamed_from="Finances"),
               folder("Compta/Audit", ("group", "adm", "read"))]
    check = converge(share, renamed, check=True)
    assert kinds(check) == [("rename", "Compta")] and (share / "Finances").is_dir()
    result = converge(share, renamed)
    assert kinds(result) == [("rename", "Compta")]
    assert result["changes"][0]["detail"] == "from Finances"
    assert not (share / "Finances").exists() and os.stat(share / "Compta").st_ino == inode
    assert (share / "Compta/Audit/2024.csv").read_text() == "1;2;3\n"
    again = converge(share, renamed)
    assert not again["changed"] and again["warnings"] == []


def test_rename_conflict_refuses_without_touching_anything(share: Path) -> None:
    converge(share, SPEC)
    (share / "Compta").mkdir()
    subprocess.run(["setfacl", "-m", "g:mail:rwx", str(share / "Finances")], check=True)
    before = subprocess.run(["getfacl", "-R", "-p", str(share)], capture_output=True,
                            text=True, check=True).stdout
    renamed = [SPEC[0], folder("Compta", ("group", "staff", "read"), renamed_from="Finances"),
               folder("Nouveau", ("group", "staff", "read"))]
    for check in (True, False):
        with pytest.raises(tree.TreeError) as refused:
            converge(share, renamed, check=check)
        message = str(refused.value)
        assert message.startswith("refused:")
        assert str(share / "Finances") in message and str(share / "Compta") in message
    after = subprocess.run(["getfacl", "-R", "-p", str(share)], capture_output=True, text=True,
                           check=True).stdout
    assert after == before and not (share / "Nouveau").exists()


def test_share_rename_and_missing_source(share: Path, tmp_path: Path) -> None:
    former = tmp_path / "Afrika"
    converge(former, SPEC)
    result = converge(share, SPEC, share_renamed_from=str(former))
    assert kinds(result) == [("rename", ".")] and not former.exists()
    assert (share / "Finances/Audit").is_dir()
    fresh = converge(tmp_path / "Asie", SPEC, share_renamed_from=str(tmp_path / "Asia"))
    assert "not found" in fresh["warnings"][0] and (tmp_path / "Asie/Finances").is_dir()
    with pytest.raises(tree.TreeError, match=r"^refused: rename source"):
        converge(tmp_path / "Europe", SPEC, share_renamed_from=str(tmp_path / "Eu"),
                 missing_rename_source="refuse")


def test_folder_that_left_the_spec_keeps_its_acl(share: Path) -> None:
    converge(share, SPEC)
    inside = share / "Finances/Audit/notes.txt"
    inside.write_text("x")
    subprocess.run(["setfacl", "-m", "g:mail:r", str(inside)], check=True)
    kept = getfacl(share / "Finances/Audit"), getfacl(inside)
    smaller = SPEC[:2]
    for check in (True, False):
        result = converge(share, smaller, check=check)
        assert result["changed"] is False
        assert result["changes"] == [{"kind": "unmanaged", "target": "Finances/Audit",
                                      "detail": "marked managed but not in the spec: "
                                                "ACL kept as is"}]
        assert result["counts"]["unmanaged"] == 1
    assert (getfacl(share / "Finances/Audit"), getfacl(inside)) == kept


def test_symlinks_are_never_followed(share: Path) -> None:
    converge(share, SPEC)
    (share / "Finances/etc").symlink_to("/etc")
    (share / "Finances/passwd").symlink_to("/etc/passwd")
    os.mkfifo(share / "Finances/pipe")
    before = getfacl(Path("/etc")), getfacl(Path("/etc/passwd")), os.stat("/etc/passwd")
    for check in (True, False):
        result = converge(share, SPEC, check=check)
        assert result["counts"]["symlinks_skipped"] == 2
        assert result["counts"]["special_skipped"] == 1
        assert not result["changed"]
    assert (getfacl(Path("/etc")), getfacl(Path("/etc/passwd")), os.stat("/etc/passwd")) == before
    # A managed folder replaced by a link is refused, not followed.
    with pytest.raises(tree.TreeError, match=r"^refused: .*/Finances/etc exists and is not a dir"):
        converge(share, [*SPEC, folder("Finances/etc", ("group", "staff", "write"))])
    assert getfacl(Path("/etc")) == before[0] and "trusted.nasops" not in os.listxattr("/etc")


def test_unknown_principal(share: Path) -> None:
    spec = [folder("", ("group", "nasops-test-nobody-here", "write"))]
    check = converge(share, spec, check=True)
    assert check["unknown_principals"] == ["group nasops-test-nobody-here"]
    assert "would be created by nas_accounts" in check["warnings"][0]
    with pytest.raises(tree.TreeError, match="unknown users/groups"):
        converge(share, spec)
    assert not share.exists()


def test_changes_are_capped(share: Path) -> None:
    converge(share, SPEC)
    for number in range(620):
        (share / f"f{number}").write_text("")
    result = converge(share, [folder("", ("group", "users", "read"))])
    assert len(result["changes"]) == 500 and len(result["diff"]) <= 500
    # 620 files and the root; Finances left the spec: one unmanaged, its content untouched
    assert result["changes_truncated"] == 620 + 1 + 1 - 500
    assert result["counts"]["acl_written"] == 620 + 1


def test_nested_mount_is_not_entered(share: Path, tmp_path: Path) -> None:
    converge(share, SPEC)
    mount_point = share / "Finances/usb"
    mount_point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mount_point)],
                      capture_output=True, check=False).returncode:
        pytest.skip("cannot mount tmpfs here")
    try:
        (mount_point / "data").write_text("x")
        before = getfacl(mount_point), getfacl(mount_point / "data")
        result = converge(share, SPEC)
        assert result["counts"]["mounts_skipped"] == 1
        assert (getfacl(mount_point), getfacl(mount_point / "data")) == before
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.mark.slow
def test_through_ansible(share: Path, tmp_path: Path) -> None:
    playbook = tmp_path / "play.yml"
    output = tmp_path / "results.json"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": [
            {"name": "converge", "nasops.nas.tree": {"path": str(share), "folders": SPEC,
                                                 "share_renamed_from": None},
             "register": "tree"},
            {"name": "conflict", "nasops.nas.tree": {
                "path": str(tmp_path / "Other"),
                "folders": [folder(""), folder("Finances", renamed_from="Gone")]},
             "register": "conflict", "ignore_errors": True},
            {"name": "save", "ansible.builtin.copy": {
                "content": "{{ [tree, conflict] | to_json }}", "dest": str(output)},
             "check_mode": False},
        ]}]))
    (tmp_path / "Other/Gone").mkdir(parents=True)
    (tmp_path / "Other/Finances").mkdir()
    environment = {**os.environ,
                   "ANSIBLE_COLLECTIONS_PATH": str(collections_path(collection_root())),
                   "ANSIBLE_CONFIG": str(tmp_path / "none.cfg"), "ANSIBLE_NOCOLOR": "1"}
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    results, outputs = [], []
    for extra in (["--check", "--diff"], []):
        done = subprocess.run([str(ansible_playbook), "-i", "localhost,", *extra, str(playbook)],
                              capture_output=True, text=True, env=environment, cwd=tmp_path,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        results.append(json.loads(output.read_text()))
        outputs.append(done.stdout)
    (check, _), (applied, _) = results
    # The default callback shows the diff list: one pair per folder, headed by its path.
    assert "+++ after: Finances/Audit" in outputs[0] and "+group:adm:r-x" in outputs[0]
    assert check["changed"] and check["counts"]["acl_written"] == 3
    assert [change["kind"] for change in check["changes"]] == ["folder"] * 3
    assert applied["changed"] and applied["counts"]["managed"] == 3
    assert "group:staff:rwx" in getfacl(share)
    conflict = results[1][1]
    assert conflict["failed"] and conflict["msg"].startswith("refused: rename conflict")


def test_effective_acl_applies_the_mask_and_drops_it() -> None:
    inherited = ((acl.USER_OBJ, U, 6), (acl.GROUP_OBJ, U, 0), (acl.GROUP, ADM, 5),
                 (acl.GROUP, STAFF, 7), (acl.MASK, U, 6), (acl.OTHER, U, 0))
    contract = acl.file_acl(((acl.GROUP, STAFF, 7), (acl.GROUP, ADM, 5)), 6)
    assert acl.effective_acl(inherited) == acl.effective_acl(contract) == (
        (acl.USER_OBJ, U, 6), (acl.GROUP_OBJ, U, 0), (acl.GROUP, ADM, 4), (acl.GROUP, STAFF, 6),
        (acl.OTHER, U, 0))
    assert acl.effective_acl(acl.acl_from_mode(0o640)) == acl.acl_from_mode(0o640)


def test_what_people_create_is_not_drift_when_it_grants_the_contract(share: Path) -> None:
    """Files and folders made the way Samba, Syncthing and cp make them inherit the default
    ACL under the create mode's mask: same rights as the contract, so nothing to report."""
    converge(share, SPEC)
    # The shell creates files with mode 0666 and mkdir with 0777, as Samba's and Syncthing's
    # open() and mkdir() do; the default ACL then decides everything but the mask.
    script = ("cd \"$1\" && printf x > saved.docx && mkdir 'Nouveau dossier'"
              " && printf y > 'Nouveau dossier/a.txt' && cp saved.docx Finances/copie.docx"
              " && mv saved.docx renamed.docx")
    subprocess.run(["sh", "-c", script, "sh", str(share)], check=True)
    assert "group:staff:rwx\t#effective:rw-" in subprocess.run(
        ["getfacl", "-p", str(share / "renamed.docx")], capture_output=True, text=True,
        check=True).stdout
    for check in (True, False):
        result = converge(share, SPEC, check=check)
        assert result["changes"] == [] and result["counts"]["acl_written"] == 0


def test_lost_rights_are_drift_and_apply_restores_them(share: Path) -> None:
    """A file whose mask hides a right the contract gives (chmod 600), or moved into a folder
    with other rights (a rename keeps its ACL), is drift; apply writes the contract's ACL."""
    converge(share, SPEC)
    (share / "private.txt").write_text("x")
    (share / "private.txt").chmod(0o600)
    (share / "Finances/budget.xlsx").write_text("x")
    os.rename(share / "Finances/budget.xlsx", share / "budget.xlsx")
    check = converge(share, SPEC, check=True)
    assert sorted(kinds(check)) == [("acl", "budget.xlsx"), ("acl", "private.txt")]
    private = next(change for change in check["changes"] if change["target"] == "private.txt")
    assert private["detail"] == "group:staff:--- -> rw-"
    converge(share, SPEC)
    assert getfacl(share / "private.txt") == ["user::rw-", "group::---", "group:staff:rw-",
                                              "mask::rw-", "other::---"]
    assert converge(share, SPEC, check=True)["changes"] == []


def test_forgotten_folder_is_kept_silently_and_managed_again_when_back(share: Path) -> None:
    converge(share, SPEC)
    inside = share / "Finances/Audit/notes.txt"
    inside.write_text("x")
    kept = getfacl(share / "Finances/Audit"), getfacl(inside), inside.read_bytes()
    smaller = SPEC[:2]
    shares = [{"path": str(share), "folders": smaller}]
    audit = str(share / "Finances/Audit")
    changes, refusals = forgetting.forget([audit], shares, [str(share.parent)], check_mode=True)
    assert refusals == [] and [change["kind"] for change in changes] == ["forget"]
    assert kinds(converge(share, smaller, check=True)) == [("unmanaged", "Finances/Audit")]
    forgetting.forget([audit], shares, [str(share.parent)], check_mode=False)
    for check in (True, False):
        result = converge(share, smaller, check=check)
        assert result["changes"] == [] and result["counts"]["kept"] == 1
    assert (getfacl(share / "Finances/Audit"), getfacl(inside), inside.read_bytes()) == kept
    assert forgetting.forget([audit], shares, [str(share.parent)], check_mode=False) == ([], [])
    back = converge(share, SPEC)
    assert kinds(back) == [("folder", "Finances/Audit")]  # "mark as managed"
    assert os.getxattr(share / "Finances/Audit", "trusted.nasops") == b"managed"


def test_forget_refuses_what_it_must_not_mark_and_then_marks_nothing(share: Path) -> None:
    converge(share, SPEC)
    (share / "Finances/Audit/Inner").mkdir()
    (share.parent / "elsewhere").mkdir()
    (share / "link").symlink_to(share / "Finances/Audit")
    shares = [{"path": str(share), "folders": SPEC[:2]}]
    root = str(share.parent)
    audit = str(share / "Finances/Audit")
    for path, reason in [(str(share / "Finances"), "is in the spec"),
                         (str(share / "Finances/Audit/Inner"), "never a managed folder"),
                         (str(share / "link"), "without symbolic links"),
                         ("/etc", "not a folder under"),
                         (f"{share}/../elsewhere/..", "not a folder under"),
                         ("Afrique/Finances/Audit", "not a folder under")]:
        changes, refusals = forgetting.forget([audit, path], shares, [root], check_mode=False)
        assert changes == [] and len(refusals) == 1 and reason in refusals[0], refusals
        assert os.getxattr(audit, "trusted.nasops") == b"managed"


def test_a_shares_file_travels_compressed_and_is_read_on_the_nas(share: Path,
                                                                 tmp_path: Path) -> None:
    """shares_file: the action plugin copies the file, gzip-compressed, into the task's
    temporary directory on the NAS; the module reads it there (nothing parsed on the
    controller) and the directory is gone afterwards."""
    desired = tmp_path / "desired.json"
    desired.write_text(json.dumps({"version": 1, "shares": [
        {"path": str(share), "renamed_from": None, "folders": SPEC}]}), encoding="utf-8")
    result = run_tree_task(tmp_path, {"shares_file": str(desired)}, check=True)
    assert result["changed"] and result["counts"]["acl_written"] == 3
    assert not share.exists()  # check mode
    # the copy went with its directory
    assert not list((tmp_path / "remote-tmp").glob("ansible-tmp-*"))


def run_tree_task(tmp_path: Path, arguments: dict, *, check: bool) -> dict:
    """Run nasops.nas.tree once through ansible-playbook on localhost (its action plugin
    too; the remote temporary directory is tmp_path/remote-tmp); return its result."""
    playbook = tmp_path / "play.yml"
    output = tmp_path / "results.json"
    playbook.write_text(json.dumps([{
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable,
                 "ansible_remote_tmp": str(tmp_path / "remote-tmp")},
        "tasks": [
            {"name": "converge", "nasops.nas.tree": arguments, "register": "tree"},
            {"name": "save", "ansible.builtin.copy": {
                "content": "{{ tree | to_json }}", "dest": str(output)}, "check_mode": False},
        ]}]))
    environment = {**os.environ,
                   "ANSIBLE_COLLECTIONS_PATH": str(collections_path(collection_root())),
                   "ANSIBLE_CONFIG": str(tmp_path / "none.cfg"), "ANSIBLE_NOCOLOR": "1",
                   "ANSIBLE_PIPELINING": "1"}
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i",
                           "localhost,", *(["--check"] if check else []), str(playbook)],
                          capture_output=True, text=True, env=environment, cwd=tmp_path,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(output.read_text()))


def test_the_module_reads_a_plain_or_compressed_desired_state(tmp_path: Path) -> None:
    import gzip  # noqa: PLC0415

    from ansible_collections.nasops.nas.plugins.modules.tree import read_shares  # noqa: PLC0415

    shares = [{"path": "/srv/nas/wsm/Afrique", "folders": []}]
    plain = tmp_path / "desired.json"
    plain.write_text(json.dumps({"shares": shares}), encoding="utf-8")
    packed = tmp_path / "desired.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(shares).encode()))
    assert read_shares(str(plain))[0] == read_shares(str(packed))[0] == shares
    plain.write_text(json.dumps({"version": 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="no list of shares"):
        read_shares(str(plain))

"""What the nas_exporter role installs on a NAS: the root helper, the drift check, the archive."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nasops.cli.exporter import standalone_main
from nasops.exporter.drift_check import check_drift
from nasops.exporter.privileged import (
    PrivilegedCommandError,
    SocketCommandRunner,
    answer_request,
    load_allow_list,
)
from nasops.release.bundle import Target, build_bundle

REPOSITORY = Path(__file__).resolve().parents[2]
SOURCE = REPOSITORY / "src"
ECHO = ["/bin/echo", "hello"]


def request(argv: list[str], timeout: float = 5) -> io.BytesIO:
    return io.BytesIO(json.dumps({"argv": argv, "timeout": timeout}).encode() + b"\n")


def test_the_helper_runs_only_exact_allowed_command_lines() -> None:
    allowed = [tuple(ECHO)]
    assert answer_request(request(ECHO), allowed) == {"returncode": 0, "stdout": "hello\n",
                                                       "stderr": ""}
    for argv in (["/bin/echo", "hello", "extra"], ["/bin/echo"], ["echo", "hello"]):
        assert answer_request(request(argv), allowed)["error"].startswith("refused")


@pytest.mark.parametrize("raw", [b"", b"not json\n", b'{"argv": "ls"}\n',
                                 b'{"argv": ["/bin/true"], "timeout": -1}\n',
                                 b'{"argv": ["/bin/true"]}'])
def test_the_helper_answers_bad_requests_with_an_error(raw: bytes) -> None:
    answer = answer_request(io.BytesIO(raw), [("/bin/true",)])
    assert answer["error"].startswith("bad request")


def test_the_helper_bounds_the_command_time() -> None:
    argv = ["/bin/sleep", "5"]
    assert answer_request(request(argv, timeout=0.2), [tuple(argv)]) == {
        "error": "timed out after 0.2 s"}


@pytest.mark.parametrize("content", ['{"commands": [["btrfs", "qgroup"]]}', "[]",
                                     '{"commands": [[]]}', "{"])
def test_an_unusable_allow_list_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "allow.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError):
        load_allow_list(str(path))


def test_the_helper_imports_only_the_standard_library() -> None:
    # -S: no site-packages at all; the helper starts for every request, as root.
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c",
         f"import sys; sys.path.insert(0, {str(SOURCE)!r}); import nasops.exporter.privileged"],
        capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


@pytest.fixture
def helper_socket(tmp_path: Path) -> Iterator[str]:
    """A Unix socket answering like the systemd-activated helper (one request each)."""
    path = str(tmp_path / "helper.sock")
    allowed = [tuple(ECHO), ("/bin/false",)]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection, connection.makefile("rb") as stream:
                answer = answer_request(stream, allowed)
                connection.sendall(json.dumps(answer).encode() + b"\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join(2)
    server.close()


def test_the_exporter_side_gets_stdout_or_an_error(helper_socket: str) -> None:
    runner = SocketCommandRunner(helper_socket)
    assert runner(ECHO, 5) == "hello\n"
    with pytest.raises(PrivilegedCommandError, match="exit code 1"):
        runner(["/bin/false"], 5)
    with pytest.raises(PrivilegedCommandError, match="refused"):
        runner(["/bin/echo", "other"], 5)
    with pytest.raises(PrivilegedCommandError, match="cannot reach"):
        SocketCommandRunner(helper_socket + ".missing")(ECHO, 5)


def share_state(path: Path) -> dict[str, object]:
    return {"shares": [{"name": "s", "path": str(path), "renamed_from": None, "folders": [
        {"path": "", "renamed_from": None, "entries": []},
        {"path": "A", "renamed_from": None, "entries": []}]}]}


def test_the_drift_check_reports_what_the_tree_module_would_change(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    record = check_drift(share_state(share), clock=lambda: 1000.0)
    assert record.result == "drift"
    assert record.checked_at == 1000.0
    # The missing folder, and the root's marker and ACL.
    assert record.drifted_by_kind["folder"] >= 1
    assert record.drifted_items == sum(record.drifted_by_kind.values())
    assert "folder trees and ACLs only" in record.message


def test_the_drift_check_records_an_error_instead_of_raising(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file where the share should be", encoding="utf-8")
    record = check_drift(share_state(not_a_folder))
    assert (record.result, record.drifted_items) == ("error", 0)
    assert "share s:" in record.message
    record = check_drift({"shares": "nope"})
    assert record.result == "error"


def test_the_drift_check_command_writes_the_record(tmp_path: Path) -> None:
    desired = tmp_path / "desired.json"
    share = tmp_path / "share"
    share.mkdir()
    desired.write_text(json.dumps(share_state(share)), encoding="utf-8")
    state = tmp_path / "state"
    code = standalone_main(["drift-check", "--desired", str(desired),
                            "--state-directory", str(state)])
    assert code == 0
    assert json.loads((state / "drift.json").read_text(encoding="utf-8"))["result"] == "drift"
    code = standalone_main(["drift-check", "--desired", str(tmp_path / "missing.json"),
                            "--state-directory", str(state)])
    assert code == 1
    assert json.loads((state / "drift.json").read_text(encoding="utf-8"))["result"] == "error"


def test_check_config_accepts_the_role_s_config_and_names_problems(tmp_path: Path) -> None:
    config = tmp_path / "exporter.json"
    config.write_text(json.dumps({"listen_address": "127.0.0.40", "port": 9750,
                                  "privileged_socket": "/run/x.sock",
                                  "quota": {"method": "qgroup",
                                            "btrfs_command": ["/usr/bin/btrfs"]}}),
                      encoding="utf-8")
    assert standalone_main(["check-config", str(config)]) == 0
    config.write_text(json.dumps({"basic_auth": {"users_file": str(tmp_path / "none")}}),
                      encoding="utf-8")
    assert standalone_main(["check-config", str(config)]) == 2


@pytest.mark.slow
def test_the_archive_is_reproducible_and_self_sufficient(tmp_path: Path) -> None:
    first = build_bundle(Target.controller(), tmp_path / "cache")
    # Built again from scratch in another cache: the same bytes.
    second = build_bundle(Target.controller(), tmp_path / "other-cache")
    assert first["digest"] == second["digest"]
    assert Path(first["archive"]).read_bytes() == Path(second["archive"]).read_bytes()
    assert first["method"] == "copy"
    root = tmp_path / "root"
    with tarfile.open(first["archive"]) as archive:
        members = archive.getmembers()
        assert {(member.uid, member.gid, member.mtime) for member in members} == {
            (0, 0, 1_700_000_000)}
        archive.extractall(root, filter="data")
    names = {member.name for member in members}
    assert "lib/nasops/cli/exporter.py" in names
    assert not any(name.startswith(("lib/nasops/spec", "lib/nasops/lab", "lib/ansible/"))
                   for name in names)
    # The collection's tree engine, as the drift check and the sync ACL keeper import it.
    assert "lib/ansible_collections/nasops/nas/plugins/module_utils/tree_engine.py" in names
    # Only the archive and the standard library: what a NAS without pip has.
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); "
         "from nasops.cli.exporter import standalone_main; "
         "import nasops.exporter.drift_check, nasops.exporter.privileged; "
         "import nasops.sync.acl_keeper; "
         "sys.exit(standalone_main(['--help']))", str(root / "lib")],
        capture_output=True, text=True, check=False, env={"PATH": os.environ["PATH"]})
    assert completed.returncode == 0, completed.stderr
    assert "drift-check" in completed.stdout


@pytest.mark.slow
def test_the_same_inputs_reuse_the_archive_and_changed_ones_rebuild_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nasops.release import bundle  # noqa: PLC0415 - patched below

    first = build_bundle(Target.controller(), tmp_path)
    writes: list[Path] = []
    original = bundle.write_reproducible_archive

    def counting(root: Path, archive: Path) -> str:
        writes.append(archive)
        return original(root, archive)

    monkeypatch.setattr(bundle, "write_reproducible_archive", counting)
    assert build_bundle(Target.controller(), tmp_path) == first
    assert writes == []  # found from the inputs' fingerprint, not built
    monkeypatch.setattr(bundle, "input_fingerprint", lambda *_: "changed-inputs")
    assert build_bundle(Target.controller(), tmp_path)["digest"] == first["digest"]
    assert len(writes) == 1
    Path(first["archive"]).unlink()  # a record whose archive is gone is not trusted
    assert build_bundle(Target.controller(), tmp_path)["digest"] == first["digest"]
    assert len(writes) == 2 and Path(first["archive"]).is_file()

"""Real restic, real repositories: back up, change, back up again, apply the retention,
list, restore a deleted folder in place, and drill."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from test_backup_support import (
    features,
    make_config,
    make_repository,
    needs_rclone,
    needs_restic,
    write_tree,
)

from nasops.backup.actions.drill import drill_repository
from nasops.backup.actions.init import init_repositories
from nasops.backup.actions.listing import list_snapshots
from nasops.backup.actions.restore import restore_path
from nasops.backup.actions.run import run_backups
from nasops.backup.errors import RepositoryUnreachableError
from nasops.backup.status import initialised_marker, read_status
from nasops.errors import BadInputError

pytestmark = [needs_restic, pytest.mark.slow]

FIRST_TREE: dict[str, bytes | str] = {
    "Afrique/Rapports/2024.txt": "rapport annuel\n",
    "Afrique/Rapports/2025.txt": "rapport 2025\n",
    "Afrique/Partenaires/contrat [signé].pdf": os.urandom(40_000),
    "Afrique/photo*.jpg": os.urandom(70_000),
    "Asie/notes.md": "# notes\n" * 100,
}


def test_backup_change_retention_restore_drill(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_tree(source, FIRST_TREE)
    _config_path, config = make_config(tmp_path, retention={"last": 2})

    first = run_backups(config, features())
    assert [outcome.result for outcome in first] == ["success"]
    assert first[0].record["files_new"] == 5 and first[0].record["files_total"] == 5

    (source / "Asie/notes.md").write_text("# notes, changed\n", encoding="utf-8")
    (source / "Afrique/Rapports/2024.txt").unlink()
    write_tree(source, {"Asie/nouveau.txt": "new\n"})
    second = run_backups(config, features())[0].record
    assert (second["files_new"], second["files_changed"], second["files_total"]) == (1, 1, 5)
    assert second["bytes_new"] > 0 and second["bytes_total"] > 0

    third = run_backups(config, features())[0].record
    assert third["files_new"] == 0 and third["files_changed"] == 0
    assert third["forget"] == {"result": "success", "removed_snapshots": 1,
                               "kept_snapshots": 2, "message": None}
    assert third["snapshot_count"] == 2
    listing = list_snapshots(config, features())[0]
    assert listing.error is None
    assert [snapshot.short_id for snapshot in listing.snapshots] == [
        second["snapshot_id"], third["snapshot_id"]]
    assert all(snapshot.tags == ("nasops",) for snapshot in listing.snapshots)

    status = read_status(config.state_directory, "local")
    assert status["backup"]["last_success"]["snapshot_id"] == third["snapshot_id"]
    assert status["backup"]["last_attempt"]["result"] == "success"
    assert status["restic_version"] == features().version_text

    # A user deletes a folder: it comes back in its original place, byte for byte.
    kept = {path.name: path.read_bytes() for path in (source / "Afrique").rglob("*")
            if path.is_file()}
    shutil.rmtree(source / "Afrique")
    outcome = restore_path(config, features(), "latest", str(source / "Afrique"))
    assert outcome.files == 3 and outcome.restored_path == str(source / "Afrique")
    assert {path.name: path.read_bytes() for path in (source / "Afrique").rglob("*")
            if path.is_file()} == kept
    with pytest.raises(BadInputError, match="exists: restoring in place would overwrite"):
        restore_path(config, features(), "latest", str(source / "Afrique"))
    beside = restore_path(config, features(), second["snapshot_id"],
                          str(source / "Asie/notes.md"), target=str(tmp_path / "beside"))
    assert Path(beside.restored_path).read_text(encoding="utf-8") == "# notes, changed\n"

    drill = drill_repository(config, config.repositories[0], features(),
                             chooser=random.Random(7))  # noqa: S311 (a fixed sample, not a secret)
    assert drill.result == "success", drill.record["message"]
    assert drill.record["sampled_files"] == 5 and drill.record["verified_files"] == 5
    assert drill.record["compared_with_source"] == 5
    assert not list((tmp_path / "scratch").iterdir()), "the scratch directory is cleaned up"
    assert read_status(config.state_directory, "local")["drill"]["last_success"]["result"] == (
        "success")


@needs_rclone
def test_three_repositories_local_rclone_and_rest(tmp_path: Path) -> None:
    """3-2-1 with the backends restic reaches here: a local disk, rclone, and REST served by
    `rclone serve restic` on 127.0.0.1 (the same protocol as rest-server)."""
    make_repository(tmp_path / "rclone-repo")
    make_repository(tmp_path / "rest-root" / "wsm")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["rclone", "serve", "restic", "--addr", f"127.0.0.1:{port}",
                               str(tmp_path / "rest-root")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        write_tree(tmp_path / "src", {"a.txt": "a\n", "b/c.bin": os.urandom(10_000)})
        _path, config = make_config(tmp_path, repositories=[
            {"name": "usb", "url": str(tmp_path / "usb-repo")},
            {"name": "cloud", "url": f"rclone::local:{tmp_path / 'rclone-repo'}"},
            {"name": "offsite", "url": f"rest:http://127.0.0.1:{port}/wsm/"},
        ])
        created = init_repositories(config, features())
        assert [(item.repository, item.created, item.error) for item in created] == [
            ("usb", True, None), ("cloud", False, None), ("offsite", False, None)]
        assert all(initialised_marker(config.state_directory, name).is_file()
                   for name in ("usb", "cloud", "offsite"))
        outcomes = run_backups(config, features())
        assert [(outcome.repository, outcome.result) for outcome in outcomes] == [
            ("usb", "success"), ("cloud", "success"), ("offsite", "success")]
        drill = drill_repository(config, config.repositories[2], features())
        assert drill.result == "success", drill.record["message"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_init_refuses_an_unmounted_disk(tmp_path: Path) -> None:
    _path, config = make_config(tmp_path, repositories=[
        {"name": "usb", "url": str(tmp_path / "usb/restic"), "mount_point": str(tmp_path)}])
    marker = initialised_marker(config.state_directory, "usb")
    marker.parent.mkdir()
    marker.write_text("initialised\n", encoding="utf-8")  # found once, elsewhere
    [outcome] = init_repositories(config, features())
    assert isinstance(outcome.error, RepositoryUnreachableError)
    assert not marker.exists(), "the next real pass of an apply tries init again"
    assert "is not mounted" in str(outcome.error)
    assert not (tmp_path / "usb").exists(), "no repository was created on the wrong disk"


def test_a_repository_gone_from_its_place_loses_its_marker(tmp_path: Path) -> None:
    # A disk replaced or a repository wiped: restic finds none there, the next apply inits.
    (tmp_path / "usb-repo").mkdir()
    _path, config = make_config(tmp_path, repositories=[
        {"name": "usb", "url": str(tmp_path / "usb-repo")}])
    marker = initialised_marker(config.state_directory, "usb")
    marker.parent.mkdir()
    marker.write_text("initialised\n", encoding="utf-8")
    [listing] = list_snapshots(config, features())
    assert listing.error is not None
    assert not marker.exists()

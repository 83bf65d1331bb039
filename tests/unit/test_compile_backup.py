"""The desired state's `backup` section (docs/provisioning-contract.md), from real specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from nasops.compile import compile_spec
from nasops.spec import load_spec

EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "inventory" / "example" / "wsm.yml"


def _compiled(tmp_path: Path, change: dict[str, Any] | None) -> dict[str, Any]:
    """Given a replacement of the example's backup section (None: drop it), return the
    compiled backup section."""
    yaml = YAML(typ="rt")
    yaml.width = 4096  # keep the example's flow mappings on their lines
    spec = yaml.load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    if change is None:
        del spec["backup"]
    else:
        spec["backup"] = change
    path = tmp_path / "spec.yml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(spec, handle)
    section: dict[str, Any] = compile_spec(load_spec(path).spec)["backup"]
    return section


def test_the_example_backs_up_every_share_to_a_usb_disk_and_offsite() -> None:
    desired = compile_spec(load_spec(EXAMPLE_SPEC).spec)
    backup = desired["backup"]
    assert backup["enabled"] is True
    usb, offsite = backup["repositories"]
    shares = [share["path"] for share in desired["shares"]]
    assert all(share.startswith("/srv/nas/wsm/") for share in shares)
    assert usb == {"name": "usb", "url": "/mnt/backup-usb/restic", "kind": "local",
                   "schedule": "*-*-* 01:30", "mount_point": "/mnt/backup-usb",
                   "local_path": "/mnt/backup-usb/restic", "sftp_host": None, "sftp_user": None,
                   "organization": "wsm", "sources": shares, "exclude": [],
                   "retention": {"last": 0, "hourly": 0, "daily": 7, "weekly": 4,
                                 "monthly": 12, "yearly": 3, "within": None},
                   "read_data_subset": "5%", "sample_files": 50}
    assert offsite["kind"] == "sftp" and offsite["mount_point"] is None
    assert (offsite["sftp_host"], offsite["sftp_user"]) == ("offsite.wsm.example", "backup")
    assert offsite["sources"] == shares and offsite["retention"] == usb["retention"]
    # Data, not one object twice: changing one repository's lists changes only its own.
    assert offsite["sources"] is not usb["sources"]
    assert backup["check"] == {"schedule": "weekly"}
    assert backup["drill"] == {"schedule": "monthly"}


def test_a_spec_without_backups_compiles_to_disabled(tmp_path: Path) -> None:
    assert _compiled(tmp_path, None) == {"enabled": False}


def test_sources_are_the_named_shares_once_in_spec_order_of_naming(tmp_path: Path) -> None:
    backup = _compiled(tmp_path, {
        "sources": ["asie", "Afrique", "Asie"], "exclude": ["*.tmp"],
        "repositories": [{"name": "disk", "url": "/srv/backup/restic/", "schedule": "hourly"},
                         {"name": "cloud", "url": "rest:https://backup.example.org/wsm/"}],
    })
    disk, cloud = backup["repositories"]
    assert disk["sources"] == cloud["sources"] == ["/srv/nas/wsm/Asie", "/srv/nas/wsm/Afrique"]
    assert disk["exclude"] == cloud["exclude"] == ["*.tmp"]
    # Not under /mnt or /media: no mount point is required; the per-repository schedule wins.
    assert (disk["kind"], disk["mount_point"], disk["local_path"], disk["schedule"]) == (
        "local", None, "/srv/backup/restic", "hourly")
    assert (cloud["kind"], cloud["schedule"], cloud["local_path"]) == ("rest", "*-*-* 01:30", None)
    assert disk["retention"]["daily"] == 7 and backup["check"]["schedule"] == "weekly"


def test_a_repository_on_a_media_disk_needs_that_disk_mounted(tmp_path: Path) -> None:
    backup = _compiled(tmp_path, {"repositories": [{"name": "usb", "url": "/media/usb1"}]})
    assert backup["repositories"][0]["mount_point"] == "/media/usb1"

"""A value ending in a line break ("adiallo\n", a YAML quoted or block scalar) is refused by
`validate` at its line: Python's `$` matches before a final newline, so every grammar is
anchored with `\\Z` (such a value would otherwise reach useradd, smb.conf or a unit file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.cli.main import main

EXAMPLE = Path(__file__).parents[2] / "inventory/example/wsm.yml"


@pytest.mark.parametrize(("original", "hostile"), [
    ("{login: adiallo,", '{login: "adiallo\\n",'),
    ("  id: wsm\n", '  id: "wsm\\n"\n'),
    ("  path: /srv/nas\n", '  path: "/srv/nas\\n"\n'),
    ("{name: laptop-cotonou, id: 55LGC2K-YLNQZPI-TYU4TOU-FFAO326-QK5UN37-FC5PIO7-ZETTS3U-77MJRAG}",
     '{name: "laptop-cotonou\\n", id: 55LGC2K-YLNQZPI-TYU4TOU-FFAO326-QK5UN37-FC5PIO7-ZETTS3U-'
     "77MJRAG}"),
    ("{name: laptop-cotonou, id: 55LGC2K-YLNQZPI-TYU4TOU-FFAO326-QK5UN37-FC5PIO7-ZETTS3U-77MJRAG}",
     '{name: laptop-cotonou, id: "55LGC2K-YLNQZPI-TYU4TOU-FFAO326-QK5UN37-FC5PIO7-ZETTS3U-'
     '77MJRAG\\n"}'),
    ('url: "sftp:backup@offsite.wsm.example:/srv/restic/wsm"',
     'url: "sftp:backup@offsite.wsm.example\\n:/srv/restic/wsm"'),
    ("{name: usb, url: /mnt/backup-usb/restic}", '{name: "usb\\n", url: /mnt/backup-usb/restic}'),
])
def test_a_value_ending_in_a_line_break_is_refused_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], original: str, hostile: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert original in text
    spec = tmp_path / "wsm.yml"
    spec.write_text(text.replace(original, hostile, 1), encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    error = capsys.readouterr().err
    assert f"{spec}:" in error and "Traceback" not in error, error

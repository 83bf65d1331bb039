"""What nasops prints on its own (error messages, the --json document) never carries a
registered secret, even one holding characters JSON escapes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from nasops.cli.exit_codes import run_with_exit_codes
from nasops.cli.run_report import reported
from nasops.collection import collections_path
from nasops.errors import CommandFailedError, PrerequisiteError
from nasops.execute import MASKER

SECRET = 'pa"ss\\word-1234'


@pytest.fixture(autouse=True)
def registered() -> None:
    MASKER.add(SECRET)


def test_an_error_message_quoting_a_secret_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    @click.command()
    def failing() -> None:
        raise CommandFailedError(f"ssh said: bad password {SECRET}")

    assert run_with_exit_codes(failing, [], "nasops") == 1
    err = capsys.readouterr().err
    assert "bad password" in err and SECRET not in err


def test_the_json_document_masks_before_encoding(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASOPS_RUNS_DIR", str(tmp_path / "runs"))
    with pytest.raises(CommandFailedError), reported("apply", "inventory.yml", as_json=True):
        raise CommandFailedError(f"the task printed {SECRET}")
    out = capsys.readouterr().out
    assert SECRET not in out and json.dumps(SECRET)[1:-1] not in out
    assert "the task printed" in json.loads(out)["errors"][0]["message"]


def test_an_unwritable_cache_is_a_plain_prerequisite_error(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".cache").mkdir(parents=True)
    (home / ".cache" / "nasops").write_text("a file where a directory belongs", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(PrerequisiteError, match=r"cannot link the nasops\.nas collection"):
        collections_path(tmp_path / "somewhere" / "collection")

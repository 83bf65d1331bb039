"""The one error-to-exit-code mapping, shared by `nasops` and the NAS-side commands
(`nasops-exporter`, `nasops-backup`)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from nasops.cli.backup import standalone_main as backup_main
from nasops.cli.exit_codes import EXIT_ABORTED, run_with_exit_codes
from nasops.cli.exporter import standalone_main
from nasops.cli.main import main
from nasops.errors import EXIT_BAD_INPUT, EXIT_DRIFT, BadInputError, CommandFailedError, NasopsError
from nasops.release.bundle import nasops_modules


class DriftFound(NasopsError):
    exit_code = EXIT_DRIFT


@click.command("probe")
@click.argument("outcome")
@click.pass_context
def probe(context: click.Context, outcome: str) -> int | None:
    """Fail, exit or return as `outcome` says."""
    if outcome == "bad-input":
        raise BadInputError("the spec is wrong on line 3")
    if outcome == "failed":
        raise CommandFailedError("restic failed")
    if outcome == "drift":
        raise DriftFound("2 items drifted")
    if outcome == "abort":
        raise click.exceptions.Abort
    if outcome == "exit-4":
        context.exit(4)
    if outcome == "returns-5":
        return 5
    return None


@pytest.mark.parametrize(("outcome", "code", "message"), [
    ("bad-input", EXIT_BAD_INPUT, "the spec is wrong on line 3"),
    ("failed", 1, "restic failed"),
    ("drift", EXIT_DRIFT, "2 items drifted"),
    ("abort", EXIT_ABORTED, "aborted"),
    ("exit-4", 4, ""),
    ("returns-5", 5, ""),
    ("fine", 0, ""),
])
def test_each_outcome_gets_its_code_and_only_a_message(
        outcome: str, code: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_with_exit_codes(probe, [outcome], "probe") == code
    captured = capsys.readouterr()
    assert captured.err.strip() == message
    assert "Traceback" not in captured.out + captured.err


def test_a_usage_error_is_bad_input_and_names_the_program(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_with_exit_codes(probe, [], "nasops-probe") == EXIT_BAD_INPUT
    assert "Usage: nasops-probe" in capsys.readouterr().err


def test_without_arguments_it_reads_the_process_arguments(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["nasops-probe", "drift"])
    assert run_with_exit_codes(probe, None, "nasops-probe") == EXIT_DRIFT


def test_the_cli_and_the_nas_command_answer_alike(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "exporter.json"
    config.write_text("{not json", encoding="utf-8")
    from_cli = main(["exporter", "check-config", str(config)])
    cli_error = capsys.readouterr().err
    from_nas = standalone_main(["check-config", str(config)])
    assert from_cli == from_nas == EXIT_BAD_INPUT
    assert capsys.readouterr().err == cli_error and str(config) in cli_error
    assert main(["no-such-command"]) == standalone_main(["no-such-command"]) == EXIT_BAD_INPUT
    assert backup_main(["no-such-command"]) == EXIT_BAD_INPUT
    assert "Usage: nasops-backup" in capsys.readouterr().err


def test_the_exporter_bundle_ships_the_mapping() -> None:
    # The NAS-side command imports it: the archive must hold it or nasops-exporter cannot start.
    assert "cli/exit_codes.py" in nasops_modules()

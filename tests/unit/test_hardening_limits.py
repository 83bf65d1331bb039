"""Resource limits and OS errors (issue 19): hostile files are refused quickly, in one line.

The expensive cases run `nasops validate` in a subprocess under a memory limit and a
timeout, so a regression fails the test instead of eating the machine.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

from nasops.cli.exit_codes import run_with_exit_codes
from nasops.errors import EXIT_BAD_INPUT, BadInputError, SpecError
from nasops.spec import load_spec, load_spec_text
from nasops.spec import names as names_module
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES
from nasops.spec.yaml_source import MAXIMUM_DEPTH, MAXIMUM_VALUES

MEMORY_LIMIT = 1024 * 1024 * 1024  # 1 GiB of address space: the bomb used 3 GB and more
TIMEOUT = 60  # seconds; each case takes about one (the interpreter's start)
VALID_HEAD = "version: 1\norganization: {id: tiny}\n"


# The child sets its own memory limit, then runs nasops: no preexec_fn, which is unsafe when
# the test process has threads (the corpus tests run a pool).
LIMITED_NASOPS = ("import resource, runpy, sys; "
                  f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); "
                  "sys.argv = ['nasops', *sys.argv[1:]]; "
                  "runpy.run_module('nasops', run_name='__main__')")


def nasops(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command under the memory limit and the timeout."""
    return subprocess.run([sys.executable, "-c", LIMITED_NASOPS, *arguments],
                          capture_output=True, text=True, timeout=TIMEOUT, check=False,
                          cwd=cwd, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == EXIT_BAD_INPUT, output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def alias_bomb(levels: int, width: int = 10) -> str:
    """Return a file of `levels` lists, each holding `width` references to the one before."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]"
              for level in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9, 30])
def test_an_alias_bomb_is_refused_quickly_within_the_memory_limit(tmp_path: Path,
                                                                  levels: int) -> None:
    """6 levels: a million values; 9 a billion; 30 more than any machine holds."""
    bomb = tmp_path / "bomb.yml"
    bomb.write_text(alias_bomb(levels), encoding="utf-8")
    assert bomb.stat().st_size < 2000
    result = nasops("validate", str(bomb))
    assert_one_line_refusal(result, f"{bomb}:6:", f"more than {MAXIMUM_VALUES:,} values")


def test_a_spec_just_under_the_value_bound_still_loads() -> None:
    """The bound leaves room: 100 folders referencing one shared access map is fine."""
    folders = "".join(f"      - name: Folder {index}\n        access: *shared\n"
                      for index in range(100))
    text = (VALID_HEAD + "groups:\n  - name: Team\nshares:\n  - name: Projects\n"
            "    access: &shared {Team: write}\n    folders:\n" + folders)
    loaded = load_spec_text(text)
    assert len(loaded.spec.shares[0].folders) == 100


def test_nesting_deeper_than_the_bound_is_refused_with_its_line() -> None:
    deep = "[" * (MAXIMUM_DEPTH + 5) + "]" * (MAXIMUM_DEPTH + 5)
    with pytest.raises(SpecError) as caught:
        load_spec_text(VALID_HEAD + f"shares:\n  - name: P\n    description: {deep}\n", "f.yml")
    [problem] = caught.value.problems
    assert problem.line == 5
    assert f"more than {MAXIMUM_DEPTH} levels" in problem.message


def test_a_file_larger_than_the_bound_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yml"
    with huge.open("wb") as stream:
        stream.truncate(MAXIMUM_SPEC_BYTES + 1)  # sparse: no disk used
    with pytest.raises(BadInputError, match="larger than 8 MiB"):
        load_spec(huge)


def test_did_you_mean_work_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 misspelt access entries against 2,000 names: at most the budget is compared
    (it took a minute and 3,000 fuzzy searches before)."""
    compared: list[int] = []
    original: Callable[..., Any] = difflib.get_close_matches

    def counting(word: str, possibilities: list[str], *args: Any, **kwargs: Any) -> Any:
        compared.append(len(possibilities))
        return original(word, possibilities, *args, **kwargs)

    monkeypatch.setattr(names_module.difflib, "get_close_matches", counting)
    groups = "".join(f"  - name: Team number {index}\n" for index in range(1000))
    users = "".join(f"  - login: user{index}\n" for index in range(1000))
    access = "".join(f"      Taem nomber {index}: read\n" for index in range(1000))
    text = (VALID_HEAD + f"groups:\n{groups}users:\n{users}shares:\n  - name: S\n"
            f"    access:\n{access}")
    with pytest.raises(SpecError) as caught:
        load_spec_text(text)
    assert len(caught.value.problems) == 1000
    assert sum(compared) <= names_module.SUGGESTION_COMPARISONS
    # The first ones still get their suggestion.
    assert "did you mean 'Team number 0'" in caught.value.problems[0].message


@pytest.mark.parametrize(("name", "needle"), [
    ("/dev/zero", "is a device"),
    ("", "is a directory"),
    ("missing.yml", "no such spec file"),
    ("loop.yml", "too many symbolic links"),
    ("x" * 300 + ".yml", "the file name is too long"),
    ("spec.yml/below.yml", "not a directory"),
    ("fifo.yml", "is a pipe (FIFO)"),
], ids=["dev-zero", "directory", "missing", "symlink-loop", "name-too-long", "not-a-directory",
        "fifo"])
def test_validate_refuses_what_is_not_a_regular_file_in_one_line(
        tmp_path: Path, name: str, needle: str) -> None:
    os.symlink(tmp_path / "loop.yml", tmp_path / "loop.yml")
    os.mkfifo(tmp_path / "fifo.yml")  # nobody writes: a blocking open would hang here
    (tmp_path / "spec.yml").write_text(VALID_HEAD, encoding="utf-8")
    path = name if name.startswith("/") else str(tmp_path / name)
    assert_one_line_refusal(nasops("validate", path), path, needle)


@pytest.mark.parametrize(("target", "needle"), [
    ("missing-folder/report.csv", "no such file or directory"),
    (".", "is a directory"),
])
def test_access_report_output_errors_are_one_line(tmp_path: Path, target: str,
                                                  needle: str) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text(VALID_HEAD, encoding="utf-8")
    result = nasops("access-report", str(spec), "--format", "csv", "-o", target, cwd=tmp_path)
    assert_one_line_refusal(result, f"{target}: cannot write the access report", needle)


@pytest.mark.parametrize(("target", "needle"), [
    ("/dev/zero", "is a device"),
    ("fifo", "is a pipe (FIFO)"),
])
def test_an_inventory_that_is_not_a_file_or_folder_is_refused(tmp_path: Path, target: str,
                                                              needle: str) -> None:
    os.mkfifo(tmp_path / "fifo")
    assert_one_line_refusal(nasops("plan", "-i", target, cwd=tmp_path), target, needle)


@click.command()
@click.argument("kind")
def failing(kind: str) -> None:
    """Raise the OS error a command would meet on a path the user gave."""
    if kind == "missing":
        raise FileNotFoundError(2, "No such file or directory", "/nowhere/out.json")
    if kind == "disk-full":
        raise OSError(28, "No space left on device", "/srv/out.json")
    raise OSError(5, "Input/output error")  # no path: a bug, shown as one


def test_every_command_turns_an_os_error_on_a_path_into_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_with_exit_codes(failing, ["missing"], "probe") == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "/nowhere/out.json: no such file or directory\n"
    assert run_with_exit_codes(failing, ["disk-full"], "probe") == 1
    assert capsys.readouterr().err == "/srv/out.json: no space left on the device\n"
    with pytest.raises(OSError, match="Input/output error"):
        run_with_exit_codes(failing, ["no-path"], "probe")

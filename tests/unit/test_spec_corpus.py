"""The broken-spec corpus: each file holds one problem and, on its first line, the exact message.

A corpus file starts with `# expect: LINE:COLUMN: PATH: MESSAGE` (the `file:` prefix left out).
Each file is checked twice: through the real `nasops validate` command (exit code 2, the
located line on stderr, never a traceback; a few as their own `python -m nasops` process, the
rest through the CLI's entry point in a few batch subprocesses) and in-process through
`load_spec_text` (the full problem list, nothing more). Valid specs under `valid/` must pass
with exit code 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from nasops.errors import SpecError
from nasops.spec import load_spec_text

CORPUS = Path(__file__).parent / "spec_corpus"
BROKEN = sorted(CORPUS.glob("*.yml"))
VALID = sorted((CORPUS / "valid").glob("*.yml"))
EXPECT_PREFIX = "# expect: "
MINIMUM_CASES = 40


def expectations(path: Path) -> list[str]:
    """Given a corpus file, return its expected `line:col: path: message` lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix(EXPECT_PREFIX) for line in lines
            if line.startswith(EXPECT_PREFIX)]


# Runs `nasops validate FILE` for each file given as JSON on stdin, in this one interpreter,
# and prints {file: [exit code, stdout, stderr]}: the CLI's own entry point and exit codes, a
# traceback kept as it would be printed, without paying an interpreter's start per file.
BATCH_DRIVER = """
import contextlib, io, json, sys, traceback
from nasops.cli.main import main
results = {}
for path in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["validate", path])
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    results[path] = [code, out.getvalue(), err.getvalue()]
json.dump(results, sys.__stdout__)
"""
# These also run as `python -m nasops validate FILE`, one interpreter each, as people do.
SEPARATE_PROCESS = 8


class CommandRuns:
    """Runs `nasops validate` on every corpus file once per test session: a few as their own
    `python -m nasops` process, the rest through the CLI's entry point in batches, one
    subprocess per CPU, in parallel. Each test waits only for its own file."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
        # A file's own process, or the batch holding its answer.
        self.runs: dict[Path, Future[subprocess.CompletedProcess[str]]
                        | Future[dict[str, list[Any]]]] = {}

    def start(self, paths: list[Path]) -> None:
        new = [path for path in paths if path not in self.runs]
        alone, batched = new[:SEPARATE_PROCESS], new[SEPARATE_PROCESS:]
        for path in alone:
            self.runs[path] = self.executor.submit(self.validate, path)
        batches = min(len(batched), os.cpu_count() or 2)
        for index in range(batches):
            part = batched[index::batches]
            whole = self.executor.submit(self.validate_batch, part)
            for path in part:
                self.runs[path] = whole

    @staticmethod
    def validate(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nasops", "validate", str(path)],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8"})

    @staticmethod
    def validate_batch(paths: list[Path]) -> dict[str, list[Any]]:
        done = subprocess.run([sys.executable, "-c", BATCH_DRIVER],
                              input=json.dumps([str(path) for path in paths]),
                              capture_output=True, text=True, timeout=600, check=False,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    def result(self, path: Path) -> subprocess.CompletedProcess[str]:
        self.start([path])
        answer = self.runs[path].result()
        if isinstance(answer, subprocess.CompletedProcess):
            return answer
        code, out, err = answer[str(path)]
        return subprocess.CompletedProcess(["nasops", "validate", str(path)], code, out, err)


@pytest.fixture(scope="module")
def command_runs() -> Iterator[CommandRuns]:
    runs = CommandRuns()
    runs.start(VALID + BROKEN)
    yield runs
    runs.executor.shutdown(wait=True, cancel_futures=True)


def test_corpus_is_not_empty() -> None:
    assert len(BROKEN) >= MINIMUM_CASES, f"only {len(BROKEN)} corpus files in {CORPUS}"
    assert VALID, f"no valid specs in {CORPUS / 'valid'}"


@pytest.mark.parametrize("path", BROKEN, ids=[path.stem for path in BROKEN])
def test_corpus_file_states_exactly_one_problem(path: Path) -> None:
    assert len(expectations(path)) == 1, f"{path.name}: needs exactly one '{EXPECT_PREFIX}' line"


@pytest.mark.parametrize("path", BROKEN, ids=[path.stem for path in BROKEN])
def test_validate_command_reports_the_problem(path: Path, command_runs: CommandRuns) -> None:
    result = command_runs.result(path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, f"exit code {result.returncode}\n{output}"
    for expected in expectations(path):
        assert f"{path}:{expected}" in result.stderr.splitlines(), result.stderr


@pytest.mark.parametrize("path", BROKEN, ids=[path.stem for path in BROKEN])
def test_loader_reports_exactly_the_expected_problems(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "case.yml")
    found = [problem.format().removeprefix("case.yml:") for problem in caught.value.problems]
    assert found == expectations(path)
    assert str(caught.value) == "\n".join(f"case.yml:{line}" for line in expectations(path))


@pytest.mark.parametrize("path", VALID, ids=[path.stem for path in VALID])
def test_valid_spec_passes(path: Path, command_runs: CommandRuns) -> None:
    result = command_runs.result(path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "Traceback" not in result.stderr


def test_valid_specs_keep_accents_and_spaces() -> None:
    loaded = load_spec_text((CORPUS / "valid" / "01-accents-and-spaces.yml")
                            .read_text(encoding="utf-8"))
    groups = [group.name for group in loaded.spec.groups]
    folders = [folder.name for folder in loaded.spec.shares[0].folders]
    assert "Cellule Amérique latine" in groups
    assert loaded.spec.shares[0].name == "Amérique latine"
    assert {"Rapports de mission", "Financiën"} <= set(folders)

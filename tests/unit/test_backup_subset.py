"""`check.read_data_subset`: the config accepts exactly what restic's --read-data-subset does.

The table was read off restic 0.14; the last test asks the installed restic about every
value, so a restic that changes its grammar fails here rather than on a NAS at night.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_backup_support import PASSWORD, make_repository, needs_restic, raw_restic

from nasops.backup.config import subset_problem
from nasops.spec.units import parse_subset

ACCEPTED = ("5%", "0.5%", "5.%", ".5%", "100%", "1/10", "10/10", "1/256", "01/10", "2G", "2g",
            "2b", "2B", "2k", "2T")
REFUSED = ("0%", "101%", " 5%", "0/10", "1/0", "11/10", "1/257", "2GiB", "1.5G", "0G", "0",
           "100", "2P", "-1G", "1/2/3", "abc", "", "5 %")


@pytest.mark.parametrize("value", ACCEPTED)
def test_the_config_accepts_what_restic_accepts(value: str) -> None:
    assert subset_problem(value) is None


@pytest.mark.parametrize("value", REFUSED)
def test_the_config_refuses_what_restic_refuses_with_a_reason(value: str) -> None:
    problem = subset_problem(value)
    assert problem is not None and repr(value) in problem


@pytest.mark.parametrize("value", ["1/257", "0G", "101%", "1.5G"])
def test_the_spec_refuses_them_too(value: str) -> None:
    with pytest.raises(ValueError, match=r"subset|1/10|above|at most"):
        parse_subset(value)


@needs_restic
def test_the_installed_restic_agrees_with_the_table(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "repository")
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    # A size subset of an empty repository is refused whatever the value: give it data.
    (tmp_path / "data.txt").write_text("some data\n", encoding="utf-8")
    raw_restic(repository, "backup", str(tmp_path / "data.txt"), password_file=password_file)
    disagreements = []
    for value in (*ACCEPTED, *REFUSED):
        if not value:
            continue  # restic reads an empty value as "no subset"; the config never writes one
        completed = raw_restic(repository, "check", f"--read-data-subset={value}",
                               password_file=password_file, check=False)
        if (completed.returncode == 0) != (subset_problem(value) is None):
            disagreements.append(f"{value!r}: restic exit {completed.returncode}")
    assert not disagreements

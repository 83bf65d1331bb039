"""`nasops lab` refuses bad input before touching the machine (exit code 2, no traceback)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from nasops.cli.lab import lab, register
from nasops.errors import EXIT_BAD_INPUT, BadInputError


@pytest.mark.parametrize("address", ["10.0.0.2", "192.168.1.1", "127.0.0.1", "nas.example.org"])
def test_up_refuses_addresses_outside_loopback(address: str) -> None:
    result = CliRunner().invoke(lab, ["up", "--address", address])
    assert isinstance(result.exception, BadInputError)
    assert result.exception.exit_code == EXIT_BAD_INPUT


def test_up_refuses_a_bad_name() -> None:
    result = CliRunner().invoke(lab, ["up", "--name", "Bad_Name"])
    assert isinstance(result.exception, BadInputError)


def test_register_adds_the_lab_group() -> None:
    group = click.Group("nasops")
    register(group)
    assert "lab" in group.commands
    assert set(lab.commands) == {"up", "down", "status", "ssh"}

"""The specs are compiled in a forked child: the parent keeps outlines only, and a failing
compile raises in the parent exactly as before, with nothing left half-written."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from nasops.ansible.inventory import TargetHost
from nasops.errors import Problem, SpecError
from nasops.provision.compile_apart import compile_into

STATE = {"version": 1, "root": "/srv/nas/wsm", "shares": [
    {"name": "Afrique", "path": "/srv/nas/wsm/Afrique",
     "folders": [{"path": "", "entries": []}] * 50}]}


def _targets(tmp_path: Path) -> list[TargetHost]:
    return [TargetHost(name="nas1", spec_path=tmp_path / "wsm.yml",
                       secrets_path=tmp_path / "secrets.yml")]


def test_the_child_writes_the_files_and_the_parent_keeps_outlines(tmp_path: Path) -> None:
    compiled_in: list[int] = []

    def compile_all() -> tuple[dict[str, dict[str, Any]], list[Problem]]:
        compiled_in.append(os.getpid())
        return {"nas1": STATE}, [Problem("wsm.yml", 1, 1, "users", "a warning", "warning")]

    outlines, warnings = compile_into(tmp_path, _targets(tmp_path), compile_all)
    assert compiled_in == []  # the list grew in the child only
    assert outlines == {"nas1": {**STATE, "shares": [
        {"name": "Afrique", "path": "/srv/nas/wsm/Afrique"}]}}
    assert [warning.message for warning in warnings] == ["a warning"]
    written = json.loads((tmp_path / "desired" / "nas1.json").read_text(encoding="utf-8"))
    assert written == STATE  # the whole state, folders included, for the NAS
    host_variables = json.loads(
        (tmp_path / "inventory" / "host_vars" / "nas1.json").read_text(encoding="utf-8"))
    assert "folders" not in host_variables["nasops_desired"]["shares"][0]


def test_a_failing_compile_raises_in_the_parent_and_leaves_nothing(tmp_path: Path) -> None:
    calls: list[int] = []

    def compile_all() -> tuple[dict[str, dict[str, Any]], list[Problem]]:
        calls.append(os.getpid())
        raise SpecError([Problem("wsm.yml", 3, 5, "users[0].login", "not a login")])

    with pytest.raises(SpecError) as raised:
        compile_into(tmp_path, _targets(tmp_path), compile_all)
    assert calls == [os.getpid()]  # the parent's own compile raised it
    assert "not a login" in str(raised.value)
    assert sorted(path.name for path in tmp_path.iterdir()) == []

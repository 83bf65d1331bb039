"""Load YAML into plain Python data while remembering where every key and item stood.

Given text, `parse_yaml` returns the data plus a `SourceMap` from a data path such as
`("shares", 2, "folders", 0, "access")` to its 1-based line and column, so that every error
can be reported as `file:line:column`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from nasops.errors import Problem, SpecError

DataPath = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Positions (1-based line, column) of keys and values, by data path."""

    file: str
    key_positions: dict[DataPath, tuple[int, int]] = field(default_factory=dict)
    value_positions: dict[DataPath, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: DataPath, *, prefer_key: bool = True) -> tuple[int, int]:
        """Given a data path, return the closest known position (walking up to the root)."""
        probe = tuple(path)
        while True:
            first = self.key_positions if prefer_key else self.value_positions
            second = self.value_positions if prefer_key else self.key_positions
            if probe in first:
                return first[probe]
            if probe in second:
                return second[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def problem(self, path: DataPath, message: str, *, severity: str = "error",
                prefer_key: bool = True) -> Problem:
        """Given a data path and a sentence, return a located Problem."""
        line, column = self.position(path, prefer_key=prefer_key)
        return Problem(self.file, line, column, format_path(path), message, severity)


def format_path(path: DataPath) -> str:
    """Given a data path, return it as `shares[2].folders[0].access`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _to_plain(node: Any, path: DataPath, source: SourceMap) -> Any:
    """Convert ruamel containers to dict/list while recording positions."""
    if isinstance(node, CommentedMap):
        plain: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*path, key if isinstance(key, str | int) else str(key))
            key_line, key_column = node.lc.key(key)
            source.key_positions[child] = (key_line + 1, key_column + 1)
            value_line, value_column = node.lc.value(key)
            source.value_positions[child] = (value_line + 1, value_column + 1)
            plain[key] = _to_plain(value, child, source)
        return plain
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            line, column = node.lc.item(index)
            source.key_positions[child] = (line + 1, column + 1)
            items.append(_to_plain(value, child, source))
        return items
    return node


def _yaml_problem(file: str, error: MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = str(error.problem or error.context or "invalid YAML").strip()
    if isinstance(error, DuplicateKeyError):
        key = problem.split('"')[1] if '"' in problem else ""
        first = error.context_mark
        first_line = f" (first defined on line {first.line + 1})" if first else ""
        return Problem(file, line, column, "", f"duplicate key '{key}'{first_line}")
    if "\\t" in problem or "tab" in problem.lower():
        return Problem(file, line, column, "",
                       "a tab character is used for indentation; YAML needs spaces")
    hints = {
        "could not find expected ':'": "a line is missing ':' after its key, or a quote "
                                       "is not closed",
        "mapping values are not allowed here": "unexpected ':'; check the indentation of "
                                               "this line, or quote the value",
        "did not find expected key": "bad indentation: this line does not line up with the "
                                     "keys around it",
        "did not find expected '-' indicator": "bad indentation: this list item does not "
                                               "line up with the items above it",
        "found character that cannot start any token": "this character cannot start a value "
                                                       "here; quote the value",
    }
    for needle, sentence in hints.items():
        if needle in problem:
            return Problem(file, line, column, "", f"invalid YAML: {sentence}")
    return Problem(file, line, column, "", f"invalid YAML: {problem}")


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Given YAML text and its file name, return (plain data, source map).

    Raise SpecError with a located message for malformed YAML (tabs, indentation,
    duplicate keys, unclosed quotes).
    """
    source = SourceMap(file)
    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                column = len(line) - len(stripped) + 1
                raise SpecError([Problem(file, number, column, "",
                                         "a tab character is used for indentation; "
                                         "YAML needs spaces")])
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        document = yaml.load(text)
    except MarkedYAMLError as error:
        raise SpecError([_yaml_problem(file, error)]) from None
    return _to_plain(document, (), source), source

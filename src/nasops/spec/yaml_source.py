"""Load YAML into plain Python data while remembering where every key and item stood.

Given text, `parse_yaml` returns the data plus a `SourceMap` from a data path such as
`("shares", 2, "folders", 0, "access")` to its 1-based line and column, so that every error
can be reported as `file:line:column`.

Parsing uses PyYAML's node composer (libyaml in C when present: a 2,000-folder spec parses in
about a tenth of a second, where a round-trip loader took seconds) and builds the data here,
with YAML 1.2 core rules: only true/false are booleans (`no`, `on` stay text), `017` is 17,
and dates stay text so that a schedule like `2024-03-01` is never turned into a date object.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]
from yaml.composer import Composer  # type: ignore[import-untyped, unused-ignore]
from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # type: ignore[import-untyped, unused-ignore]
from yaml.parser import Parser  # type: ignore[import-untyped, unused-ignore]
from yaml.reader import Reader  # type: ignore[import-untyped, unused-ignore]
from yaml.scanner import Scanner  # type: ignore[import-untyped, unused-ignore]

from nasops.errors import Problem, SpecError
from nasops.spec.yaml_errors import TAB_MESSAGE, reader_problem, yaml_problem

DataPath = tuple[str | int, ...]
CORE = "tag:yaml.org,2002:"
# YAML 1.2 core schema, as ruamel and the YAML spec define it (first letters, pattern).
IMPLICIT_TAGS = (
    ("null", "~nN", re.compile(r"^(?:~|null|Null|NULL|)$")),
    ("bool", "tTfF", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")),
    ("int", "-+0123456789", re.compile(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")),
    ("float", "-+0123456789.", re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", re.VERBOSE)),
)
# Bounds that keep a hostile file from exhausting memory or time: a 500-byte file of nested
# '*' references expands to billions of values. A 20,000-folder spec holds about 160,000.
MAXIMUM_VALUES = 500_000
MAXIMUM_DEPTH = 100
# Most plain scalars are words: one look at the first letter tells they are text.
SPECIAL_FIRST_LETTERS = frozenset("".join(letters for _, letters, _ in IMPLICIT_TAGS))


@dataclass
class SourceMap:
    """Positions (1-based line, column) of keys and values, by data path."""

    file: str
    key_positions: dict[DataPath, tuple[int, int]] = field(default_factory=dict)
    value_positions: dict[DataPath, tuple[int, int]] = field(default_factory=dict)
    renormalized: set[DataPath] = field(default_factory=set)
    """Paths whose key or text was rewritten to Unicode NFC (accents encoded differently)."""

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


class CoreSchema:
    """Tag resolution for PyYAML's composers (C and Python), YAML 1.2 core schema."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """Given a node kind, its text and whether it was plain, return its tag."""
        if kind is ScalarNode:
            if implicit[0] and (not value or value[0] in SPECIAL_FIRST_LETTERS):
                for name, first_letters, pattern in IMPLICIT_TAGS:
                    if (value[:1] in first_letters or not value) and pattern.match(value):
                        return CORE + name
            return CORE + "str"
        return CORE + ("seq" if kind is SequenceNode else "map")

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Path-based resolution is not used."""

    def ascend_resolver(self) -> None:
        """Path-based resolution is not used."""


def _python_loader_init(self: Any, stream: str) -> None:
    Reader.__init__(self, stream)
    Scanner.__init__(self)
    Parser.__init__(self)
    Composer.__init__(self)


# Built with type(): PyYAML has no type hints, and these only combine its parts.
PythonLoader = type("PythonLoader", (CoreSchema, Reader, Scanner, Parser, Composer),
                    {"__init__": _python_loader_init})
FastLoader = (type("FastLoader", (CoreSchema, yaml.cyaml.CParser), {})
              if getattr(yaml, "__with_libyaml__", False) else PythonLoader)


def _scalar(node: Any) -> Any:
    """Given a scalar node, return its Python value (text when a tag does not fit)."""
    tag, value = node.tag, node.value
    try:
        if tag == CORE + "null":
            return None
        if tag == CORE + "bool":
            return value.lower() == "true"
        if tag == CORE + "int":
            digits = value.replace("_", "")
            sign = -1 if digits.startswith("-") else 1
            digits = digits.lstrip("+-")
            bases = {"0b": 2, "0o": 8, "0x": 16}
            if digits[:2] in bases:
                return sign * int(digits[2:], bases[digits[:2]])
            return sign * int(digits)
        if tag == CORE + "float":
            return float(value.replace("_", "").replace(".inf", "inf").replace(".Inf", "inf")
                         .replace(".INF", "inf").replace(".nan", "nan").replace(".NaN", "nan")
                         .replace(".NAN", "nan"))
    except ValueError:
        pass  # an explicit tag such as `!!int abc`: keep the text, the schema will explain
    return value


class Builder:
    """Builds plain data from composed nodes, recording positions and refusing duplicates."""

    def __init__(self, file: str) -> None:
        self.source = SourceMap(file)
        self.visiting: set[int] = set()

    def fail(self, node: Any, message: str) -> SpecError:
        mark = node.start_mark
        return SpecError([Problem(self.source.file, mark.line + 1, mark.column + 1, "",
                                  message)])

    def text(self, node: Any, path: DataPath, *, is_key: bool = False) -> Any:
        """Given a scalar node and its data path (a key's: its mapping's), return its value.

        Text becomes NFC and the path is remembered when that changed it; a lone surrogate is
        refused."""
        value = _scalar(node)
        if not isinstance(value, str) or value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = self.joined_surrogates(node, value)
        if unicodedata.is_normalized("NFC", value):
            return value
        # 'é' typed as e + combining accent (macOS, some keyboards) is the same name as 'é'.
        normalized = unicodedata.normalize("NFC", value)
        self.source.renormalized.add((*path, normalized) if is_key else path)
        return normalized

    def joined_surrogates(self, node: Any, value: str) -> str:
        """Given text with surrogate escapes, return it with each JSON-style pair ("\\ud83d
        \\ude00") made one character; refuse a lone one, which no file system accepts."""
        try:
            return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError:
            raise self.fail(node, "invalid text: an escape such as '\\udc80' makes half of a "
                                  "character (a lone surrogate); remove it") from None

    def build(self, node: Any, path: DataPath) -> Any:
        if not path:
            # At the root, before anything is built: bound what '*' references expand to.
            Measure(self).measure(node)
        if isinstance(node, ScalarNode):
            return self.text(node, path)
        if id(node) in self.visiting:  # `&a [*a]`: an anchor used inside itself
            raise self.fail(node, "invalid YAML: this value refers to itself ('*')")
        self.visiting.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                items = []
                for index, item in enumerate(node.value):
                    child = (*path, index)
                    self.source.key_positions[child] = _position(item)
                    items.append(self.build(item, child))
                return items
            return self.mapping(node, path)
        finally:
            self.visiting.discard(id(node))

    def mapping(self, node: Any, path: DataPath) -> dict[Any, Any]:
        plain: dict[Any, Any] = {}
        first_lines: dict[Any, int] = {}
        merges = []
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                merges.append(value_node)
            else:
                self.add(plain, first_lines, path, key_node, value_node)
        # `<<: *anchor` brings in the anchor's keys, except those given here.
        for key_node, value_node in self.merged_pairs(merges):
            if self.text(key_node, path, is_key=True) not in plain:
                self.add(plain, first_lines, path, key_node, value_node)
        return plain

    def add(self, plain: dict[Any, Any], first_lines: dict[Any, int], path: DataPath,
            key_node: Any, value_node: Any) -> None:
        """Add one key and its value to a mapping being built, refusing repeated keys."""
        if not isinstance(key_node, ScalarNode):
            raise self.fail(key_node, "invalid YAML: a key must be plain text")
        key = self.text(key_node, path, is_key=True)
        if key in first_lines:
            raise self.fail(key_node, f"'{key}' is set twice here (first on line "
                                      f"{first_lines[key]}); keep one")
        first_lines[key] = key_node.start_mark.line + 1
        child = (*path, key if isinstance(key, str | int) else str(key))
        self.source.key_positions[child] = _position(key_node)
        self.source.value_positions[child] = _position(value_node)
        plain[key] = self.build(value_node, child)

    def merged_pairs(self, merges: list[Any]) -> list[tuple[Any, Any]]:
        """Given the values of `<<` keys, return the (key, value) pairs they bring in."""
        pairs: list[tuple[Any, Any]] = []
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise self.fail(source, "invalid YAML: '<<' needs a mapping to merge")
                own = [(key, value) for key, value in source.value if not _is_merge(key)]
                nested = [value for key, value in source.value if _is_merge(key)]
                pairs += own + self.merged_pairs(nested)
        return pairs


class Measure:
    """Counts the values a node tree expands to, '*' references copied in, before any is built.

    A reference shares its anchor's node, so sizes are remembered per node: a file of nested
    references is measured in the time it takes to read, however far it would expand.
    """

    def __init__(self, builder: Builder) -> None:
        self.builder = builder
        self.known: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels)
        self.visiting: set[int] = set()

    def measure(self, node: Any, depth: int = 1) -> tuple[int, int]:
        """Given a node and its depth, return (values, levels); raise SpecError past a bound."""
        if isinstance(node, ScalarNode):
            return 1, 0
        known = self.known.get(id(node))
        if known is None:
            if id(node) in self.visiting:
                return 1, 0  # an anchor used inside itself: the builder explains it
            self.visiting.add(id(node))
            known = self.children(node, depth)
            self.visiting.discard(id(node))
            self.known[id(node)] = known
        if depth + known[1] > MAXIMUM_DEPTH:
            raise self.builder.fail(node, f"invalid YAML: values are nested more than "
                                          f"{MAXIMUM_DEPTH} levels deep here; a spec is "
                                          "far flatter")
        return known

    def children(self, node: Any, depth: int) -> tuple[int, int]:
        children = (node.value if isinstance(node, SequenceNode)
                    else [part for pair in node.value for part in pair])
        values, levels = 1, 0
        for child in children:
            child_values, child_levels = self.measure(child, depth + 1)
            values += child_values
            levels = max(levels, child_levels + 1)
            if values > MAXIMUM_VALUES:
                raise self.builder.fail(
                    node, f"invalid YAML: this expands to more than {MAXIMUM_VALUES:,} values "
                          "(each '*' reference copies its anchor's values); a spec is far "
                          "smaller: write the values out or use fewer references")
        return values, levels


def _is_merge(key: Any) -> bool:
    # A plain `<<` key (its style is None in Python, '' in libyaml); a quoted one is text.
    return isinstance(key, ScalarNode) and key.value == "<<" and not key.style


def _position(node: Any) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _compose(text: str, file: str) -> Any:
    """Compose the node tree; on a mistake, re-parse in Python for its clearer wording."""
    for loader_class in (FastLoader, PythonLoader):
        loader = loader_class(text)
        try:
            return loader.get_single_node()
        except yaml.reader.ReaderError as error:
            raise SpecError([reader_problem(file, text, error)]) from None
        except yaml.MarkedYAMLError as error:
            if loader_class is PythonLoader:
                raise SpecError([yaml_problem(file, error)]) from None
        finally:
            loader.dispose()
    return None  # not reached: the Python loader either returns or raises


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Given YAML text and its file name, return (plain data, source map).

    Raise SpecError with a located message for malformed YAML (tabs, indentation,
    duplicate keys, unclosed quotes).
    """
    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                column = len(line) - len(stripped) + 1
                raise SpecError([Problem(file, number, column, "", TAB_MESSAGE)])
    builder = Builder(file)
    try:
        with _without_cycle_collection():
            node = _compose(text, file)
            data = None if node is None else builder.build(node, ())
    except RecursionError:
        raise SpecError([Problem(file, 1, 1, "", "invalid YAML: the file is nested too deeply "
                                                 "(thousands of levels) to be a spec")]) from None
    return data, builder.source


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: building tens of thousands of nodes triggers it again
    and again (about 40% of the parse time), and parsing creates no cycles to collect."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

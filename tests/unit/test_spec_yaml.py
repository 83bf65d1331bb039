"""YAML reading: YAML 1.2 values, positions, anchors, and the same result from C and Python."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from ruamel.yaml import YAML

from nasops.errors import SpecError
from nasops.spec.yaml_source import Builder, FastLoader, PythonLoader, parse_yaml

UNIT = Path(__file__).parent
SPECS = sorted([*UNIT.glob("spec_corpus/*.yml"), *UNIT.glob("spec_corpus/valid/*.yml"),
                UNIT.parents[1] / "inventory" / "example" / "wsm.yml"])
SCALARS = [
    "text", "Amérique latine", "yes", "no", "on", "off", "y", "n", "true", "True", "TRUE",
    "false", "FALSE", "null", "Null", "~", "", "0", "17", "017", "-3", "+12", "1_000", "0o17",
    "0x1F", "0b101", "1.5", ".5", "1.", "1e3", "12e3", "+.5e+3", "-.inf", ".nan", "1:30",
    "01:30", "__", "_svc", "1.5T", "200G", "5%", "1/10", "'quoted 12'", '"true"', "'~'",
    "'*-*-* 01:30'", "Mon..Fri", "10.0.0.1", "1e", "0x", "+", ".", "1_", "0_",
]


def ruamel_value(text: str) -> Any:
    """What ruamel's round-trip loader gives, as plain Python types."""
    value = YAML(typ="rt").load(f"a: {text}\n")["a"]
    for plain in (bool, int, float, str):
        if isinstance(value, plain):
            return plain(value)
    return value


def parsed(text: str, loader: type) -> Any:
    """Return (data, positions) as read with one parser, or the text of its refusal."""
    builder = Builder("f.yml")
    loader_instance = loader(text)
    try:
        node = loader_instance.get_single_node()
        return (None if node is None else builder.build(node, ())), builder.source
    except yaml.YAMLError as error:
        return f"parser refused: {type(error).__name__}"
    except SpecError as error:
        return str(error)
    finally:
        loader_instance.dispose()


@pytest.mark.parametrize("text", SCALARS)
def test_values_follow_yaml_1_2_like_ruamel(text: str) -> None:
    ours = parse_yaml(f"a: {text}\n", "f.yml")[0]["a"]
    theirs = ruamel_value(text)
    if isinstance(theirs, float) and math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == theirs
        assert type(ours) is type(theirs)


@pytest.mark.parametrize("text", ["2024-02-29", "2024-02-30", "2001-12-14t21:59:43.10-05:00",
                                  "="])
def test_dates_and_other_special_values_stay_text(text: str) -> None:
    assert parse_yaml(f"a: {text}\n", "f.yml")[0] == {"a": text}


@pytest.mark.parametrize("path", SPECS, ids=[path.name for path in SPECS])
def test_c_and_python_parsers_agree(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast, python = parsed(text, FastLoader), parsed(text, PythonLoader)
    if isinstance(fast, str) and fast.startswith("parser refused"):
        assert isinstance(python, str)  # broken YAML: both refuse it (wording may differ)
    else:
        assert fast == python


def test_aliases_and_merge_keys() -> None:
    data, source = parse_yaml("""\
groups: [{name: Team}]
shares:
  - name: A
    access: &team-writes {Team: write}
  - name: B
    access: *team-writes
  - &base {name: C, sync: true}
  - <<: *base
    name: D
""", "f.yml")
    shares = data["shares"]
    assert shares[0]["access"] == shares[1]["access"] == {"Team": "write"}
    assert shares[3] == {"name": "D", "sync": True}
    assert source.position(("shares", 3, "name")) == (9, 5)


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x [*x]\n", "f.yml:1:4: invalid YAML: this value refers to itself ('*')"),
    ("? [a]\n: b\n", "f.yml:1:3: invalid YAML: a key must be plain text"),
    ("a: 1\n---\na: 2\n", "f.yml:2:1: invalid YAML: the file holds more than one document "
                          "('---'); keep one spec per file"),
    ("a: x\u0007\n", "f.yml:1:5: invalid YAML: an invisible control character (U+0007) is in "
                     "the text; delete it (it often comes from copy-paste)"),
    ("a:\n  b: 1\n  'b': 2\n", "f.yml:3:3: 'b' is set twice here (first on line 2); keep one"),
    ("a: {<<: [x]}\n", "f.yml:1:10: invalid YAML: '<<' needs a mapping to merge"),
    ("a: *-*-* 01:30\n", "f.yml:1:4: invalid YAML: a value that starts with '*' must be in "
                         "quotes, e.g. \"*-*-* 01:30\""),
    ("a:\n  b: -\n", "f.yml:2:6: invalid YAML: a '- ' list item is not allowed here; check "
                     "the indentation, or put the value in quotes"),
])
def test_refusals_are_located(text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, "f.yml")
    assert str(caught.value) == message


def test_empty_text_is_nothing() -> None:
    assert parse_yaml("", "f.yml")[0] is None
    assert parse_yaml("# just a comment\n", "f.yml")[0] is None

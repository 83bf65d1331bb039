"""Load a spec file: YAML with positions, schema check, cross-checks; every problem at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from nasops.errors import Problem, SpecError
from nasops.spec.checks import check_spec_data
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES, read_text_file
from nasops.spec.models import Level, Spec
from nasops.spec.names import suggestion, suggestion_budget
from nasops.spec.yaml_source import DataPath, SourceMap, parse_yaml

SECRET_WORDS = ("password", "passwd", "secret", "api_key", "apikey", "token", "private_key")
TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list (lines starting with '- ')",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}
PATTERN_HINTS = {
    "id": "use lowercase letters, digits and '-', starting with a letter (e.g. wsm)",
    "account_prefix": "use a few lowercase letters followed by '-', e.g. 'wsm-'",
    "email": "this does not look like an email address",
    "name": "use lowercase letters, digits and '-', starting with a letter",
    "path": "use an absolute path such as /srv/nas",
}
DEVICE_ID_HINT = ("this is not a Syncthing device ID (eight groups of seven capital "
                  "letters or digits 2-7, separated by '-'); copy it from Syncthing's "
                  "'Show ID'")


@dataclass
class LoadedSpec:
    """A valid spec with where it came from and any warnings."""

    spec: Spec
    source: SourceMap
    warnings: list[Problem] = field(default_factory=list)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    return f"'{value}'"


def _model_at(path: DataPath) -> type[BaseModel] | None:
    """Given a data path, return the model class that owns the mapping at that path."""
    model: type[BaseModel] | None = Spec
    for part in path:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _inner_model(argument)
        if found is not None:
            return found
    return None


COMPARISON_WORDS = {"greater_than_equal": "at least", "less_than_equal": "at most",
                    "greater_than": "more than", "less_than": "less than"}


def _unknown_key(location: DataPath) -> str:
    last = str(location[-1]) if location else ""
    owner = _model_at(location[:-1])
    known = list(owner.model_fields) if owner else []
    if any(word in last.lower() for word in SECRET_WORDS):
        return (f"'{last}' looks like a secret; secrets never go in the spec: put them "
                "in the secrets file referenced by the inventory")
    hint = suggestion(last, known)
    if known and not hint:
        return f"unknown key '{last}'; allowed here: {', '.join(known)}"
    return f"unknown key '{last}'{hint}"


def _value_message(error: Any, location: DataPath) -> str:
    """Given a pydantic error about a value, return a plain sentence."""
    kind, value = error["type"], error.get("input")
    last = location[-1] if location else ""
    context = error.get("ctx", {})
    if kind in ("literal_error", "enum"):
        return f"{_describe(value)} is not allowed; use {context.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        is_device = "devices" in location and last == "id"
        hint = DEVICE_ID_HINT if is_device else PATTERN_HINTS.get(str(last), "invalid value")
        return f"{_describe(value)}: {hint}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in COMPARISON_WORDS:
        limit = next(iter(context.values()), "")
        return f"{_describe(value)} must be {COMPARISON_WORDS[kind]} {limit}"
    if kind in ("too_short", "string_too_short", "string_too_long"):
        too_long = f"is longer than {context.get('max_length', '')} characters"
        return too_long if kind == "string_too_long" else "cannot be empty"
    return str(error["msg"])


def translate_error(error: Any, source: SourceMap) -> Problem:
    """Turn one pydantic error into a plain located sentence."""
    location: DataPath = tuple(error["loc"])
    kind, value = error["type"], error.get("input")
    last = location[-1] if location else ""
    if kind == "extra_forbidden":
        return source.problem(location, _unknown_key(location))
    if kind == "missing":
        return source.problem(location[:-1], f"missing required key '{last}'")
    if len(location) >= 2 and location[-2] == "access" and kind == "enum":
        levels = ", ".join(level.value for level in Level)
        return source.problem(location, f"{_describe(value)} is not a level for '{last}'; "
                                        f"use {levels}")
    if kind in TYPE_WORDS:
        return source.problem(location, f"expected {TYPE_WORDS[kind]}, got {_describe(value)}",
                              prefer_key=False)
    return source.problem(location, _value_message(error, location))


def load_spec_text(text: str, file: str = "<spec>") -> LoadedSpec:
    """Given spec text, return a LoadedSpec; raise SpecError listing every problem."""
    data, source = parse_yaml(text, file)
    if data is None:
        raise SpecError([Problem(file, 1, 1, "", "the file is empty; start from "
                                                 "`nasops init` for a commented example")])
    if not isinstance(data, dict):
        raise SpecError([Problem(file, 1, 1, "", "the spec must be a mapping of keys "
                                                 "(organization:, users:, shares: …)")])
    spec: Spec | None = None
    with suggestion_budget():
        problems = check_spec_data(data, source)
        try:
            spec = Spec.model_validate(data)
        except ValidationError as error:
            problems += [translate_error(item, source) for item in error.errors()]
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors or spec is None:
        raise SpecError(_unique(errors))
    warnings = [problem for problem in problems if problem.severity == "warning"]
    return LoadedSpec(spec, source, _unique(warnings))


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def load_spec(path: str | Path) -> LoadedSpec:
    """Given a spec file path, return a LoadedSpec; raise SpecError or BadInputError.

    Only a regular file of at most MAXIMUM_SPEC_BYTES is read (a FIFO or /dev/zero would
    hang or never end).
    """
    text = read_text_file(path, "spec file", MAXIMUM_SPEC_BYTES)
    return load_spec_text(text, str(path))

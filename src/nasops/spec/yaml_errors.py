"""Turn YAML parser errors into one plain, located sentence for a non-IT reader."""

from __future__ import annotations

import re
from typing import Any

from nasops.errors import Problem

TAB_MESSAGE = "a tab character is used for indentation; YAML needs spaces"
YAML_HINTS = (
    # (pattern in the parser's words, plain sentence); first match wins.
    (r"could not find expected ':'",
     "a line is missing ':' after its key, or a quote is not closed"),
    (r"mapping values are not allowed here",
     "unexpected ':' here; check this line's indentation, whether the line above misses "
     "a ':', or put the value in quotes"),
    (r"found '[]}]'", "this bracket has no matching opening bracket"),
    (r"expected <block end>, but found '<scalar>'",
     "unexpected text after a value; if the value contains a quote, put it in the other "
     "kind of quotes (\"it's\")"),
    (r"expected <block end>|did not find expected key",
     "bad indentation: this line does not line up with the lines above it"),
    (r"did not find expected '-' indicator",
     "bad indentation: this list item does not line up with the items above it"),
    (r"found undefined alias",
     "'*' starts a reference to an anchor that does not exist; put the value in quotes"),
    (r"sequence entries are not allowed here",
     "a '- ' list item is not allowed here; check the indentation, or put the value in "
     "quotes"),
    (r"expected a single document|but found another document",
     "the file holds more than one document ('---'); keep one spec per file"),
)
# Problems reported where something was opened (a quote, a bracket, a key), not where the
# parser gave up, which is often the end of the file.
OPENING_HINTS = (
    ("quoted scalar", "end of stream", "this quote is never closed"),
    ("flow sequence", "", "this '[' is never closed with ']'"),
    ("flow mapping", "", "this '{' is never closed with '}'"),
    ("alias", "", "a value that starts with '*' must be in quotes, e.g. \"*-*-* 01:30\""),
    ("simple key", "could not find expected ':'",
     "this line is missing ':' after its key (or a quote is not closed)"),
)


def _sentence(error: Any) -> tuple[str, bool]:
    """Given a parser error, return (plain sentence, whether it is located at the opening)."""
    problem = str(error.problem or error.context or "invalid YAML").strip()
    context = str(error.context or "")
    if "\\t" in problem or "tab" in problem.lower():
        return TAB_MESSAGE, False
    for opening, needle, sentence in OPENING_HINTS:
        if opening in context and needle in problem and error.context_mark is not None:
            return f"invalid YAML: {sentence}", True
    character = re.search(r"found character '(.+)' that cannot start any token", problem)
    if character:
        return (f"invalid YAML: '{character.group(1)}' cannot start a value; put the value in "
                "quotes"), False
    for pattern, sentence in YAML_HINTS:
        if re.search(pattern, problem):
            return f"invalid YAML: {sentence}", False
    return f"invalid YAML: {problem}", False


def yaml_problem(file: str, error: Any) -> Problem:
    """Given a PyYAML MarkedYAMLError, return one plain located Problem about it."""
    sentence, at_opening = _sentence(error)
    mark = error.context_mark if at_opening else (error.problem_mark or error.context_mark)
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(file, line, column, "", sentence)


def reader_problem(file: str, text: str, error: Any) -> Problem:
    """Given a PyYAML ReaderError (a character YAML refuses), return a located Problem."""
    position = max(0, min(int(getattr(error, "position", 0) or 0), len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = getattr(error, "character", None)  # a code point (int) or a one-letter str
    if isinstance(character, str) and len(character) == 1:
        character = ord(character)
    code = f"U+{character:04X}" if isinstance(character, int) else "?"
    return Problem(file, line, column, "",
                   f"invalid YAML: an invisible control character ({code}) is in the text; "
                   "delete it (it often comes from copy-paste)")

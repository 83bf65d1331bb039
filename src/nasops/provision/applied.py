"""The specs a NAS last matched, kept on it, and plan's "who gains and who loses access".

A successful apply (also one with nothing to do) has the NAS keep the text of the specs it
now matches (the apply lock's holder writes /var/lib/nasops/applied-specs.json, root's
only). `nasops plan` reads them back over a session of its own and says, before the list of
changes, who gains and who loses access if this spec is applied: the same comparison as
`nasops access-diff` (nasops.report.access_diff), against what the NAS really was set to,
not against a file that may never have been applied.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasops import __version__
from nasops.ansible.apply_lock import python_interpreter, record_path, remote_argv
from nasops.ansible.inventory import TargetHost
from nasops.errors import NasopsError, SpecError
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES, read_text_file

RECORD_VERSION = 1
READ_SECONDS = 60.0
# A host names a handful of specs; what plan reads back is bounded (a NAS is not trusted
# to send only what nasops wrote), each kept spec as a spec file is.
MAXIMUM_SPECS = 64
MAXIMUM_RECORD_BYTES = 4 * MAXIMUM_SPEC_BYTES
# Lines of the section shown by default (plan --all shows every one).
LINES_SHOWN = 25
# Run on the NAS (standard library only): print {"found": false} or the record.
READER = """
import json, os, sys
path = os.path.join(os.path.dirname(sys.argv[1]), "applied-specs.json")
limit = int(sys.argv[2])
try:
    with open(path, "rb") as stream:
        data = stream.read(limit + 1)
except FileNotFoundError:
    data = None
if data is None:
    sys.stdout.write('{"found": false}')
elif len(data) > limit:
    sys.stdout.write('{"found": true, "error": "larger than plan reads"}')
else:
    sys.stdout.write('{"found": true, "record": ' + data.decode("utf-8", "replace") + "}")
"""


def applied_record(target: TargetHost) -> dict[str, Any]:
    """Given a target whose specs were just applied, return what its NAS keeps of them."""
    return {"version": RECORD_VERSION, "nasops_version": __version__,
            "specs": [{"file": path.name,
                       "text": read_text_file(path, "spec file", MAXIMUM_SPEC_BYTES)}
                      for path in target.spec_paths]}


@dataclass
class AppliedSpecs:
    """What one NAS keeps of the specs it last matched, as plan read it."""

    host: str
    found: bool = False
    applied_at: str = ""
    texts: list[tuple[str, str]] = field(default_factory=list)
    """(file name, spec text) of each spec kept."""
    problem: str = ""
    """Why it could not be read (empty when it was, or when there is none)."""


def read_applied(host: str, variables: Mapping[str, Any]) -> AppliedSpecs:
    """Given a host and its inventory variables, read the specs its NAS keeps (never raises:
    a NAS that cannot be read makes a line of the plan, not a failed plan)."""
    reading = AppliedSpecs(host)
    try:
        argv = remote_argv(host, variables, [python_interpreter(variables), "-c", READER,
                                             record_path(variables),
                                             str(MAXIMUM_RECORD_BYTES)])
        completed = subprocess.run(argv, capture_output=True, check=False,
                                   timeout=READ_SECONDS)
    except (NasopsError, OSError, subprocess.TimeoutExpired) as error:
        reading.problem = str(error) or type(error).__name__
        return reading
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        reading.problem = detail[-1] if detail else f"exit code {completed.returncode}"
        return reading
    try:
        answer = json.loads(completed.stdout)
        reading.found = bool(answer["found"])
        if answer.get("error"):
            reading.problem = str(answer["error"])
        elif reading.found:
            record = answer["record"]
            reading.applied_at = str(record.get("applied_at", ""))
            reading.texts = [(str(spec["file"]), str(spec["text"]))
                             for spec in record["specs"][:MAXIMUM_SPECS]]
    except (ValueError, KeyError, TypeError, AttributeError):
        reading.found, reading.problem = True, "not a record nasops wrote"
    return reading


def access_section(reading: AppliedSpecs, paths: Sequence[Path], *,
                   show_all: bool = False) -> list[str]:
    """Given what a NAS keeps and the specs about to be applied to it, return plan's section
    saying who gains and who loses access, organisation by organisation."""
    from nasops.report.access_diff import access_diff, render_text  # noqa: PLC0415
    from nasops.spec import load_spec  # noqa: PLC0415
    from nasops.spec.load import load_spec_text  # noqa: PLC0415

    host = reading.host
    if reading.problem:
        return [f"{host}: who gains and who loses access is not known: what the NAS last "
                f"applied could not be read ({reading.problem})"]
    if not reading.found:
        return [f"{host}: no earlier apply of nasops' is kept on this NAS: `nasops "
                "access-report SPEC` shows who will reach what"]
    before: dict[str, Any] = {}
    lines = [f"{host}: who gains and who loses access (against the specs applied "
             f"{reading.applied_at or 'last'}):"]
    for name, text in reading.texts:
        if len(text.encode("utf-8", "replace")) > MAXIMUM_SPEC_BYTES:
            lines.append(f"  the spec {name} last applied is larger than a spec may be: "
                         "not compared")
            continue
        try:
            spec = load_spec_text(text, f"{host}:{name} (as last applied)").spec
        except SpecError:
            lines.append(f"  the spec {name} last applied no longer reads with this nasops "
                         "version: `nasops access-diff OLD NEW` compares two files")
            continue
        before[spec.organization.id] = spec
    for path in paths:
        after = load_spec(path).spec
        organisation = after.organization.id
        lines.append(f"  {organisation}:")
        old = before.pop(organisation, None)
        if old is None:
            lines.append(f"    not applied to this NAS before: `nasops access-report {path}` "
                         "shows who will reach what")
            continue
        text = render_text(access_diff(old, after), language=after.organization.language)
        lines += [f"    {line}" for line in text.splitlines()]
    for organisation in before:
        lines.append(f"  {organisation}: no longer in this NAS's specs: its people can no "
                     "longer log in; its files stay")
    if not show_all and len(lines) > LINES_SHOWN + 1:
        hidden = len(lines) - LINES_SHOWN
        lines = [*lines[:LINES_SHOWN], f"  … {hidden} more lines (plan --all, or "
                                       "`nasops access-diff`)"]
    return lines

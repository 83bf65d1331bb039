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
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from nasops import __version__
from nasops.ansible.apply_lock import applied_path, python_interpreter, remote_argv
from nasops.ansible.inventory import TargetHost
from nasops.errors import NasopsError, SpecError
from nasops.execute import MASKER
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES, read_text_file
from nasops.spec.names import visible

if TYPE_CHECKING:
    from nasops.report.access_diff import AccessDiff

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
import json, os, stat, sys
limit = int(sys.argv[2])
try:
    # Non-blocking open and a regular file only: a FIFO or a device there cannot hang or
    # flood the read (the controller bounds it as well).
    descriptor = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
except FileNotFoundError:
    sys.stdout.write('{"found": false}')
    sys.exit(0)
with os.fdopen(descriptor, "rb") as stream:
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        sys.stdout.write('{"found": true, "error": "not a regular file"}')
        sys.exit(0)
    os.set_blocking(descriptor, True)
    data = stream.read(limit + 1)
if len(data) > limit:
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


def applied_records(targets: Sequence[TargetHost]) -> tuple[dict[str, dict[str, Any]],
                                                            list[str]]:
    """Given the targets of an apply, return what each NAS keeps once it matches its specs,
    and a warning per NAS whose specs are more than plan reads back (not kept)."""
    records, warnings = {}, []
    for target in targets:
        record = applied_record(target)
        # As the holder writes it (indented JSON, non-ASCII escaped), with room to spare.
        if len(json.dumps(record, indent=2)) > MAXIMUM_RECORD_BYTES - 4096:
            warnings.append(f"{target.name}: its specs are larger than plan reads back "
                            f"({MAXIMUM_RECORD_BYTES // 2**20} MiB): they are not kept, and "
                            "plan cannot say who gains and who loses access there")
            continue
        records[target.name] = record
    return records, warnings


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
                                             applied_path(variables),
                                             str(MAXIMUM_RECORD_BYTES)])
        returncode, output, error_text = _run_capped(argv)
    except (NasopsError, OSError, subprocess.TimeoutExpired) as error:
        reading.problem = visible(MASKER.mask(str(error)) or type(error).__name__)
        return reading
    if output is None:
        reading.problem = "the NAS sent more than plan reads"
        return reading
    if returncode != 0:
        detail = error_text.decode("utf-8", "replace").strip().splitlines()
        reading.problem = (visible(MASKER.mask(detail[-1])[:300]) if detail
                           else f"exit code {returncode}")
        return reading
    try:
        answer = json.loads(output)
        reading.found = bool(answer["found"])
        if answer.get("error"):
            reading.problem = visible(str(answer["error"])[:200])
        elif reading.found:
            read_record(reading, answer["record"])
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        reading.found, reading.problem = True, "not a record nasops wrote"
    return reading


def read_record(reading: AppliedSpecs, record: Any) -> None:
    """Given a reading and the record its NAS keeps (parsed JSON, not trusted), fill in the
    reading: found, when and the spec texts (KeyError, TypeError… on a record nasops did not
    write)."""
    reading.found = True
    # Shown in the plan: no control character from the NAS reaches the terminal.
    reading.applied_at = visible(str(record.get("applied_at", ""))[:40])
    reading.texts = [(visible(str(spec["file"])[:200]), str(spec["text"]))
                     for spec in record["specs"][:MAXIMUM_SPECS]]


def _run_capped(argv: list[str]) -> tuple[int, bytes | None, bytes]:
    """Run argv; return its exit code, its output (None past what plan reads: the NAS is
    not trusted to send only what nasops wrote) and the start of its error output.
    (nasops.execute.run_command keeps all of a command's output: no bound for a NAS.)"""
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        if process.stdout is None or process.stderr is None:  # never: both are pipes
            raise OSError("no pipe to the NAS")
        errors: list[bytes] = []
        drain = threading.Thread(target=_drain, args=(process.stderr, errors), daemon=True)
        drain.start()
        # A NAS that never answers (a FIFO in place of the file) is ended, not waited for.
        timer = threading.Timer(READ_SECONDS, process.kill)
        timer.start()
        try:
            output = process.stdout.read(MAXIMUM_RECORD_BYTES + 65536)
            more = bool(process.stdout.read(1))
            if more:
                process.kill()
            process.wait()
            drain.join(READ_SECONDS)
        finally:
            timer.cancel()
        return process.returncode, None if more else output, b"".join(errors)


def _drain(stream: IO[bytes], kept: list[bytes]) -> None:
    """Keep the first 4 KiB of a stream and read the rest into the void."""
    kept.append(stream.read(4096))
    while stream.read(65536):
        pass


@dataclass
class OrganisationAccess:
    """One organisation of the specs about to be applied, against what the NAS kept of it."""

    id: str
    path: Path
    language: str
    diff: AccessDiff | None  # None: not applied to this NAS before


@dataclass
class AccessComparison:
    """What plan says of who gains and who loses access on one NAS."""

    host: str
    problem: str | None = None  # what the NAS keeps could not be read
    found: bool = False  # an earlier apply is kept there
    applied_at: str | None = None
    notes: list[str] = field(default_factory=list)  # kept specs that could not be compared
    organisations: list[OrganisationAccess] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # organisations no longer in the specs


def compare_applied(reading: AppliedSpecs, paths: Sequence[Path]) -> AccessComparison:
    """Given what a NAS keeps and the specs about to be applied to it, compare them
    organisation by organisation (nasops.report.access_diff)."""
    from nasops.report.access_diff import access_diff  # noqa: PLC0415
    from nasops.spec import load_spec  # noqa: PLC0415
    from nasops.spec.load import load_spec_text  # noqa: PLC0415

    host = reading.host
    comparison = AccessComparison(host, problem=reading.problem, found=reading.found,
                                  applied_at=reading.applied_at)
    if reading.problem or not reading.found:
        return comparison
    before: dict[str, Any] = {}
    for name, text in reading.texts:
        if len(text.encode("utf-8", "replace")) > MAXIMUM_SPEC_BYTES:
            comparison.notes.append(f"the spec {name} last applied is larger than a spec may "
                                    "be: not compared")
            continue
        try:
            spec = load_spec_text(text, f"{host}:{name} (as last applied)").spec
        except (SpecError, UnicodeError):  # a NAS-kept text may hold anything
            comparison.notes.append(f"the spec {name} last applied no longer reads with this "
                                    "nasops version: `nasops access-diff OLD NEW` compares "
                                    "two files")
            continue
        before[spec.organization.id] = spec
    for path in paths:
        after = load_spec(path).spec
        old = before.pop(after.organization.id, None)
        comparison.organisations.append(OrganisationAccess(
            after.organization.id, path, after.organization.language,
            access_diff(old, after) if old is not None else None))
    comparison.gone = list(before)
    return comparison


def access_section(reading: AppliedSpecs, paths: Sequence[Path], *,
                   show_all: bool = False) -> list[str]:
    """Given what a NAS keeps and the specs about to be applied to it, return plan's section
    saying who gains and who loses access, organisation by organisation."""
    from nasops.report.access_diff import render_text  # noqa: PLC0415

    comparison = compare_applied(reading, paths)
    host = comparison.host
    if comparison.problem:
        return [f"{host}: who gains and who loses access is not known: what the NAS last "
                f"applied could not be read ({comparison.problem})"]
    if not comparison.found:
        return [f"{host}: no earlier apply of nasops' is kept on this NAS: `nasops "
                "access-report SPEC` shows who will reach what"]
    lines = [f"{host}: who gains and who loses access (against the specs applied "
             f"{comparison.applied_at or 'last'}):"]
    lines += [f"  {note}" for note in comparison.notes]
    for organisation in comparison.organisations:
        lines.append(f"  {organisation.id}:")
        if organisation.diff is None:
            lines.append(f"    not applied to this NAS before: `nasops access-report "
                         f"{organisation.path}` shows who will reach what")
            continue
        text = render_text(organisation.diff, language=organisation.language)
        lines += [f"    {line}" for line in text.splitlines()]
    for gone in comparison.gone:
        lines.append(f"  {gone}: no longer in this NAS's specs: its people can no "
                     "longer log in; its files stay")
    if not show_all and len(lines) > LINES_SHOWN + 1:
        hidden = len(lines) - LINES_SHOWN
        lines = [*lines[:LINES_SHOWN], f"  … {hidden} more lines (plan --all, or "
                                       "`nasops access-diff`)"]
    return lines


def access_document(reading: AppliedSpecs, paths: Sequence[Path]) -> dict[str, Any]:
    """The same comparison for `plan --json`: known (false when nothing is kept or it could
    not be read: problem says why), applied_at, notes, and per organisation either
    applied_before false or access-diff's document (changes with their sentence, renamed,
    left_the_spec, shares_left); gone lists organisations no longer in the specs."""
    from nasops.report.access_diff import diff_document  # noqa: PLC0415

    comparison = compare_applied(reading, paths)
    return {
        "known": comparison.found and not comparison.problem,
        "problem": comparison.problem or None,
        "applied_at": comparison.applied_at or None,
        "notes": comparison.notes,
        "organisations": {
            organisation.id: ({"applied_before": False} if organisation.diff is None else
                              {"applied_before": True,
                               **diff_document(organisation.diff, organisation.language)})
            for organisation in comparison.organisations},
        "gone": comparison.gone,
    }

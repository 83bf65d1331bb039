"""`restic forget [--prune]`: apply the retention policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nasops.backup.restic.common import ResticOptions, argument, base_argv

KEEP_COUNTS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


def build_forget_argv(
    options: ResticOptions,
    keep: Mapping[str, int | str | None],
    *,
    tags: Sequence[str] = (),
    prune: bool = True,
) -> tuple[str, ...]:
    """Given keep-* values (`{"daily": 7, "within": "30d"}`), return the forget argv.

    Zero counts and a missing `within` are left out; a policy that keeps nothing is refused
    here too, because `restic forget` without any keep-* would remove every snapshot.
    """
    unknown = set(keep) - {*KEEP_COUNTS, "within"}
    if unknown:
        raise ValueError(f"unknown retention keys: {', '.join(sorted(unknown))}")
    argv = base_argv(options, "forget", json_output=True)
    if prune:
        argv.append("--prune")
    for name in KEEP_COUNTS:
        count = keep.get(name)
        if count:
            argv += [f"--keep-{name}", str(count)]
    within = keep.get("within")
    if within:
        argv += ["--keep-within", str(within)]
    if not any(part.startswith("--keep-") for part in argv):
        raise ValueError("this retention keeps no snapshot at all")
    for tag in tags:
        argv += ["--tag", argument(tag, "tag")]
    return tuple(argv)

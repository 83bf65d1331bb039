"""Running nasops on QTS hosts (issue 15): probe, plan, drift and apply.

Everything checkable offline comes first for every host (spec, inventory values, passwords),
so a mistake stops the run before any NAS is asked; then one session per NAS, logged out
at the end, whatever happens. apply reads the NAS as plan does, refuses what plan refuses
and a firmware without a verified profile (unless the operator accepts it), then makes the
changes through nasops.qts.writes, each read back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasops.ansible.inventory import TargetHost
from nasops.errors import BadInputError
from nasops.provision.applied import AppliedSpecs, applied_record
from nasops.qts.answers import Firmware
from nasops.qts.applied_record import keep_applied, read_applied_record
from nasops.qts.connection import endpoint_of, qts_password, qts_secrets, user_passwords
from nasops.qts.data_plane import (
    NOT_REACHED,
    FolderReading,
    apply_folder_changes,
    read_folders,
)
from nasops.qts.facts import (
    QtsFacts,
    read_facts,
    read_members,
    read_rights,
    read_share_flags,
)
from nasops.qts.folder_scripts import Shell
from nasops.qts.folder_tree import FoldersDone
from nasops.qts.nas_lock import nas_lock
from nasops.qts.plan import (
    REFUSED_ACTION,
    Change,
    Desired,
    changes_of,
    desired_state,
    shares_to_read,
    to_read,
)
from nasops.qts.probe import (
    PERMISSIONS_PAGE,
    SHOWN,
    VERIFIED_LIVE,
    profile_status,
    switch_problems,
)
from nasops.qts.session import Endpoint, QtsSession
from nasops.qts.ssh import HOST_KEY_VARIABLE, SshShell
from nasops.qts.writes import QtsWriter, WriteNotMadeError, WriteOutcome
from nasops.spec.load import LoadedSpec, load_spec
from nasops.spec.names import visible
from nasops.spec.qts import QTS_VOLUME
from nasops.spec.rights import resolve_rights

# Without SSH nothing is kept on the NAS, so plan cannot compare with it.
NOT_KEPT = (f"no {HOST_KEY_VARIABLE} in the inventory: nasops reaches the NAS only through "
            "its web interface, and keeps no record of the specs applied there")


@dataclass(frozen=True)
class QtsHost:
    """A QTS host ready to be asked: where, as whom, and its spec."""

    target: TargetHost
    endpoint: Endpoint
    loaded: LoadedSpec
    password: str = field(repr=False)
    user_passwords: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Each person's password (apply only: given at creation)."""
    applied: Mapping[str, Any] | None = field(default=None, repr=False)
    """Apply only: what the NAS keeps once it matches the spec, read with the spec (the
    text applied, not one saved meanwhile)."""


def endpoints(targets: Sequence[TargetHost], hostvars: Mapping[str, Mapping[str, Any]],
              ) -> list[tuple[TargetHost, Endpoint]]:
    """Given QTS targets and every host's inventory variables, return each with its checked
    endpoint."""
    return [(target, endpoint_of(target.name, hostvars.get(target.name, {})))
            for target in targets]


def prepared_hosts(hosts: Sequence[tuple[TargetHost, Endpoint]],
                   vault_password_file: str | None, *, people: bool = False) -> list[QtsHost]:
    """Given QTS targets with their endpoints, return them with spec and password, and
    with people, every person's password too."""
    prepared = []
    for target, endpoint in hosts:
        loaded = load_spec(target.spec_path)
        applied = applied_record(target) if people else None
        secrets = qts_secrets(target, vault_password_file)
        logins = list(desired_state(loaded).people) if people else []
        prepared.append(QtsHost(target, endpoint, loaded, qts_password(target, secrets),
                                user_passwords(target, secrets, logins), applied))
    return prepared


@dataclass(frozen=True)
class HostReading:
    """What was read of a QTS host and how it differs from its spec."""

    facts: QtsFacts
    changes: list[str]
    """What apply would change."""
    refused: list[str]
    """What apply would refuse to do, each with what to settle first."""
    notes: list[str] = field(default_factory=list)
    """What is left as it is and said (a folder that left the spec)."""
    folders_compared: bool = False
    unlisted: int = 0
    """Changes counted beyond those listed (500 per share)."""
    applied: AppliedSpecs | None = None
    """The specs the NAS last matched, as kept on it (plan's who gains and who loses)."""

    @property
    def count(self) -> int:
        return len(self.changes) + self.unlisted


def _read(session: QtsSession, desired: Desired) -> tuple[QtsFacts, list[Change], list[str]]:
    """Read a logged-in NAS; return its facts, the changes and what apply would refuse."""
    facts = read_facts(session)
    groups, people = to_read(desired, facts)
    facts = dataclasses.replace(facts, members=read_members(session, groups),
                                rights=read_rights(session, people),
                                flags=read_share_flags(session,
                                                       shares_to_read(desired, facts)))
    found = changes_of(desired, facts)
    switches = [f"{problem} ({PERMISSIONS_PAGE})" for problem in switch_problems(facts)]
    return (facts, [change for change in found if change.action != REFUSED_ACTION],
            [*switches, *(change.words for change in found
                          if change.action == REFUSED_ACTION)])


def read_host(host: QtsHost) -> HostReading:
    """Given a prepared host, read it (one session) and compare its control plane with its
    spec."""
    with QtsSession(host.endpoint) as session:
        session.login(host.password)
        facts, changes, refused = _read(session, desired_state(host.loaded))
    name = host.target.name
    if host.endpoint.ssh is None:
        return HostReading(facts, [change.words for change in changes], refused,
                           applied=AppliedSpecs(name, problem=NOT_KEPT))
    # The folders, over SSH, once the web session is over.
    with SshShell(host.endpoint.ssh) as shell:
        folders = read_folders(shell, host.loaded, facts)
        applied = read_applied_record(shell, host.loaded.spec.volume.path, name)
    return HostReading(facts, [*(change.words for change in changes), *folders.changes],
                       [*refused, *folders.refused], folders.notes, folders_compared=True,
                       unlisted=folders.unlisted, applied=applied)


def reading_document(reading: HostReading) -> dict[str, Any]:
    """Given what was read of a host, return its entry of the `--json` document's hosts:
    status (ok, changed or refused), firmware, profile, change_count, changes and refused
    (plan's sentences)."""
    firmware = reading.facts.firmware
    return {"status": "refused" if reading.refused else "changed" if reading.changes else "ok",
            "firmware": firmware_words(firmware), "profile": profile_status(firmware),
            "change_count": reading.count, "changes": reading.changes,
            "refused": reading.refused, "kept_as_is": reading.notes,
            "folders_compared": reading.folders_compared}


def check_lines(host: QtsHost, reading: HostReading, *, drift: bool) -> list[str]:
    """Given a host and what was read, return the plan or drift report."""
    firmware = reading.facts.firmware
    version = (f"QTS {visible(firmware.version)} build {visible(firmware.number)}"
               if firmware else "firmware not reported")
    lines = [f"{host.target.name} ({host.endpoint.place}), {version}: "
             f"{profile_status(firmware)}"]
    lines += [f"  refused: {problem}" for problem in reading.refused]
    changes = reading.changes
    count = f"{reading.count} difference{'s' * (reading.count != 1)}"
    if drift:
        lines.append(f"  drift: {count} from the spec in people, groups, shares and share "
                     "rights" if changes else "  no difference from the spec in people, "
                     "groups, shares and share rights")
    else:
        lines.append(f"  {reading.count} change{'s' * (reading.count != 1)} apply would make")
    lines += [f"    {change}" for change in changes]
    lines += [f"  kept as is: {note}" for note in reading.notes]
    lines.append("  not compared yet: " + ("" if reading.folders_compared else
                                           NOT_REACHED + "; ")
                 + "rights of people the spec does not name")
    return lines


@dataclass(frozen=True)
class HostApplied:
    """What apply did on one QTS host, for its lines and the run record."""

    firmware: str
    profile: str
    unverified_firmware_accepted: bool
    outcome: WriteOutcome
    folders_made: list[str] = field(default_factory=list)
    folders_count: int = 0
    """Folder changes made: those in folders_made and those only counted."""
    warnings: list[str] = field(default_factory=list)
    """Said after a successful apply (the specs it matched could not be kept)."""


def firmware_words(firmware: Firmware | None) -> str:
    """Given the firmware a NAS announced (or None), return it in words."""
    if firmware is None:
        return "firmware not reported"
    return f"QTS {visible(firmware.version)} build {visible(firmware.number)}"


def apply_host(host: QtsHost, *, accept_unverified_firmware: bool,
               say: Callable[[str], None]) -> HostApplied:
    """Given a host prepared with people, read it, refuse as plan does, gate on its
    firmware, then make every change (nasops.qts.writes, then the folders over SSH, holding
    the NAS's apply lock); say each change made."""
    if host.endpoint.ssh is None:
        return _apply(host, None, accept_unverified_firmware, say)
    with SshShell(host.endpoint.ssh) as shell, nas_lock(shell, host.loaded.spec.volume.path,
                                                        host.target.name):
        return _apply(host, shell, accept_unverified_firmware, say)


def _apply(host: QtsHost, shell: Shell | None, accept_unverified_firmware: bool,
           say: Callable[[str], None]) -> HostApplied:
    desired = desired_state(host.loaded)
    spec = host.loaded.spec
    with QtsSession(host.endpoint) as session:
        session.login(host.password)
        facts, changes, refused = _read(session, desired)
        firmware = session.firmware
        folders = FolderReading()
        if shell is not None:  # refusals and the firmware gate cover folders too
            folders = read_folders(shell, host.loaded, facts)
            refused = [*refused, *folders.refused]
        key = f"{firmware.version}.{firmware.number}" if firmware else None
        profile = profile_status(firmware)
        if refused:
            raise BadInputError(
                f"refused on {host.target.name}: " + "; ".join(refused)
                + "; nothing was changed (settle it, then run apply again)")
        verified = key is not None and key in VERIFIED_LIVE
        writes = bool(changes or folders.changes)
        if writes and not verified and not accept_unverified_firmware:
            raise BadInputError(
                f"{host.target.name}: nasops has no verified profile of "
                f"{firmware_words(firmware)} ({profile}): it reads it, but writes to it only "
                "when you accept that with --accept-unverified-firmware (kept in the run "
                "record); nothing was changed")
        writer = QtsWriter(session, host.user_passwords, _volume_number(spec.volume.path),
                           _descriptions(host.loaded), say)
        outcome = writer.apply(changes)
        if changes:
            # Read the whole control plane again, as plan would: what one write's read-back
            # cannot see (a group's right reaching a person just created) shows here.
            facts, left, refused = _read(session, desired)
            if left or refused:
                found = [*refused, *(change.words for change in left)]
                raise WriteNotMadeError(
                    f"{host.endpoint.place}: after {len(outcome.made)} change(s), each read "
                    f"back, reading the NAS again still finds: {'; '.join(found[:SHOWN])}"
                    + (f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else "")
                    + " (nothing was undone: settle it, then run apply again)")
    made_folders = FoldersDone([], 0)
    warnings = []
    if shell is not None:
        if folders.changes:
            # After the web API made the people, groups and shares the folders' rights name.
            made_folders = apply_folder_changes(shell, host.loaded, facts, say)
        # The NAS now matches the spec (also when nothing was to do): it keeps it for plan.
        warning = keep_applied(shell, spec.volume.path, host.target.name, host.applied)
        warnings = [warning] if warning else []
    return HostApplied(firmware_words(firmware), profile,
                       accept_unverified_firmware and not verified and writes, outcome,
                       made_folders.words, made_folders.count, warnings)


def _volume_number(path: str) -> int:
    # The grammar the spec check validated the path with (nasops.spec.qts), read here.
    found = QTS_VOLUME.match(path)
    if found is None:  # validate refused it already; never guess a volume
        raise BadInputError(f"volume.path {path!r} is not a QTS data volume")
    return int(found["number"])


def _descriptions(loaded: LoadedSpec) -> dict[str, str]:
    """QTS's description fields: a person's name, a group's and a share's description."""
    spec = loaded.spec
    directory = resolve_rights(spec).directory
    found = {directory.users[user.login].system_name: user.name or ""
             for user in spec.users}
    found.update({f"share:{share.name}": share.description or "" for share in spec.shares})
    found.update({f"group:{group.system_name}": group.description or ""
                  for group in directory.groups.values()})
    return found

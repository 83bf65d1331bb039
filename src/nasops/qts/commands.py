"""Running nasops' read-only work on QTS hosts (issue 15): probe, plan and drift.

Everything checkable offline comes first for every host (spec, inventory values, password),
so a mistake stops the run before any NAS is asked; then one session per NAS, logged out
at the end, whatever happens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasops.ansible.inventory import TargetHost
from nasops.qts.connection import endpoint_of, qts_password
from nasops.qts.facts import QtsFacts, read_facts, read_members, read_rights
from nasops.qts.plan import desired_state, differences, to_read
from nasops.qts.probe import PERMISSIONS_PAGE, profile_status, switch_problems
from nasops.qts.session import Endpoint, QtsSession
from nasops.spec.load import LoadedSpec, load_spec
from nasops.spec.names import visible


@dataclass(frozen=True)
class QtsHost:
    """A QTS host ready to be asked: where, as whom, and its spec."""

    target: TargetHost
    endpoint: Endpoint
    loaded: LoadedSpec
    password: str = field(repr=False)


def endpoints(targets: Sequence[TargetHost], hostvars: Mapping[str, Mapping[str, Any]],
              ) -> list[tuple[TargetHost, Endpoint]]:
    """Given QTS targets and every host's inventory variables, return each with its checked
    endpoint."""
    return [(target, endpoint_of(target.name, hostvars.get(target.name, {})))
            for target in targets]


def prepared_hosts(hosts: Sequence[tuple[TargetHost, Endpoint]],
                   vault_password_file: str | None) -> list[QtsHost]:
    """Given QTS targets with their endpoints, return them with spec and password."""
    return [QtsHost(target, endpoint, load_spec(target.spec_path),
                    qts_password(target, vault_password_file)) for target, endpoint in hosts]


@dataclass(frozen=True)
class HostReading:
    """What was read of a QTS host and how it differs from its spec."""

    facts: QtsFacts
    changes: list[str]
    """What apply would change."""
    refused: list[str]
    """What apply would refuse to do, each with what to settle first."""


def read_host(host: QtsHost) -> HostReading:
    """Given a prepared host, read it (one session) and compare its control plane with its
    spec."""
    desired = desired_state(host.loaded)
    with QtsSession(host.endpoint) as session:
        session.login(host.password)
        facts = read_facts(session)
        groups, people = to_read(desired, facts)
        facts = dataclasses.replace(facts, members=read_members(session, groups),
                                    rights=read_rights(session, people))
    changes, refused = differences(desired, facts)
    switches = [f"{problem} ({PERMISSIONS_PAGE})" for problem in switch_problems(facts)]
    return HostReading(facts, changes, [*switches, *refused])


def check_lines(host: QtsHost, reading: HostReading, *, drift: bool) -> list[str]:
    """Given a host and what was read, return the plan or drift report."""
    firmware = reading.facts.firmware
    version = (f"QTS {visible(firmware.version)} build {visible(firmware.number)}"
               if firmware else "firmware not reported")
    lines = [f"{host.target.name} ({host.endpoint.place}), {version}: "
             f"{profile_status(firmware)}"]
    lines += [f"  refused: {problem}" for problem in reading.refused]
    changes = reading.changes
    count = f"{len(changes)} difference{'s' * (len(changes) != 1)}"
    if drift:
        lines.append(f"  drift: {count} from the spec in people, groups, shares and share "
                     "rights" if changes else "  no difference from the spec in people, "
                     "groups, shares and share rights")
    else:
        lines.append(f"  {len(changes)} change{'s' * (len(changes) != 1)} apply would make "
                     "(apply on QTS is not built yet: nothing is changed)")
    lines += [f"    {change}" for change in changes]
    lines.append("  not compared yet: the folder tree and its ACLs (SSH), share flags, "
                 "rights of people the spec does not name")
    return lines

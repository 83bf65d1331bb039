"""Running nasops' read-only work on QTS hosts (issue 15): probe, plan and drift.

Everything checkable offline comes first for every host (spec, inventory values, password),
so a mistake stops the run before any NAS is asked; then one session per NAS, logged out
at the end, whatever happens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nasops.ansible.inventory import TargetHost
from nasops.qts.connection import endpoint_of, qts_password
from nasops.qts.facts import QtsFacts, read_facts, read_members, read_rights
from nasops.qts.plan import desired_state, differences, to_read
from nasops.qts.probe import PERMISSIONS_PAGE, printable, profile_status, switch_problems
from nasops.qts.session import Endpoint, QtsSession
from nasops.spec.load import LoadedSpec, load_spec


@dataclass(frozen=True)
class QtsHost:
    """A QTS host ready to be asked: where, as whom, and its spec."""

    target: TargetHost
    endpoint: Endpoint
    loaded: LoadedSpec
    password: str


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


def read_host(host: QtsHost) -> tuple[QtsFacts, list[str]]:
    """Given a prepared host, read it (one session) and return what was read and the
    control plane's differences from its spec."""
    desired = desired_state(host.loaded)
    with QtsSession(host.endpoint) as session:
        session.login(host.password)
        facts = read_facts(session)
        groups, people = to_read(desired, facts)
        facts = dataclasses.replace(facts, members=read_members(session, groups),
                                    rights=read_rights(session, people))
    return facts, differences(desired, facts)


def check_lines(host: QtsHost, facts: QtsFacts, changes: list[str], *, drift: bool
                ) -> list[str]:
    """Given a host, what was read and its differences, return the plan or drift report."""
    firmware = facts.firmware
    version = (f"QTS {printable(firmware.version)} build {printable(firmware.number)}"
               if firmware else "firmware not reported")
    lines = [f"{host.target.name} ({host.endpoint.place}), {version}: "
             f"{profile_status(firmware)}"]
    refused = switch_problems(facts)
    lines += [f"  refused: {problem} ({PERMISSIONS_PAGE})" for problem in refused]
    if drift:
        lines.append(f"  drift: {len(changes)} difference{'s' * (len(changes) != 1)} "
                     "from the spec" if changes else "  no drift in people, groups, "
                     "shares and share rights")
    else:
        lines.append(f"  {len(changes)} change{'s' * (len(changes) != 1)} apply would make "
                     "(apply on QTS is not built yet: nothing is changed)")
    lines += [f"    {change}" for change in changes]
    lines.append("  not compared yet: the folder tree and its ACLs (SSH), share flags, "
                 "rights of people the spec does not name")
    return lines

"""The live check of a QNAP (issue 15's live tier): nasops' QTS commands run on a real NAS
with resources named nasopstest-* only, each read back, then cleaned up, and an evidence
record written (docs/qts.md, "Test tiers"). nasopstest-, not nasops-test-: the spec keeps
names starting with nasops- for nasops' own service accounts.

tests/qts/live/test_live_qts.py runs it on the NAS the environment names (never in CI);
test_simulated_qts_live_check.py runs the same procedure on the simulated service, which
proves the procedure, not QTS.
"""

from __future__ import annotations

import datetime
import getpass
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasops import __version__
from nasops.cli.main import main
from nasops.qts.facts import read_group_rights, read_groups, read_share_names, read_users
from nasops.qts.session import PRIVILEGES, Endpoint, QtsSession

PREFIX = "nasopstest"
PEOPLE = ("nasopstest-ana", "nasopstest-ben")
GROUP = "nasopstest-team"
SHARES = ("nasopstest-share", "nasopstest-moved")
SPEC = """# nasops live check: nasopstest-* resources only, removed after the check.
version: 1
organization:
  id: nasopstest
  name: nasops live check
volume:
  path: {volume}
groups:
  - name: {group}
users:
  - {{login: {ana}, name: nasops test Ana, groups: [{group}]}}
  - {{login: {ben}, name: nasops test Ben}}
shares:
  - name: {share}
{renamed}    access: {{{group}: write, {ben}: read}}
"""


@dataclass(frozen=True)
class LiveTarget:
    """The NAS to check and how to reach it."""

    host: str
    port: int
    pin: str
    user: str
    password: str = field(repr=False)
    volume: str = "/share/CACHEDEV1_DATA"


@dataclass
class Evidence:
    """What the check did and saw, written as JSON at the end, whatever happened."""

    tier: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    cleanup: list[dict[str, Any]] = field(default_factory=list)
    firmware: dict[str, Any] = field(default_factory=dict)

    def document(self, operator: str) -> dict[str, Any]:
        return {"tier": self.tier, "nasops_version": __version__, "operator": operator,
                "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                **self.firmware, "passed": bool(self.steps) and all(
                    step["passed"] for step in [*self.steps, *self.cleanup]),
                "steps": self.steps, "cleanup": self.cleanup}


def _write_files(directory: Path, target: LiveTarget, *, renamed: bool) -> Path:
    spec = SPEC.format(volume=target.volume, group=GROUP, ana=PEOPLE[0], ben=PEOPLE[1],
                       share=SHARES[1] if renamed else SHARES[0],
                       renamed=f"    renamed_from: {SHARES[0]}\n" if renamed else "")
    (directory / "live.yml").write_text(spec, encoding="utf-8")
    inventory = directory / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"children": {"nas": {"hosts": {"live-qnap": {
        "ansible_host": target.host, "nasops_platform": "qts", "nasops_spec": "live.yml",
        "nasops_secrets_file": "secrets.yml", "nasops_qts_port": target.port,
        "nasops_qts_user": target.user,
        "nasops_qts_certificate_sha256": target.pin}}}}}}), encoding="utf-8")
    return inventory


def _ours(names: list[str]) -> list[str]:
    return sorted(name for name in names if name.casefold().startswith(PREFIX))


def run_live_check(target: LiveTarget, directory: Path, evidence_directory: Path, *,
                   tier: str, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the check on target (work files in directory); write and return the evidence.
    Raise AssertionError at the first step that does not do what it must (clean-up and the
    evidence record happen anyway)."""
    evidence = Evidence(tier)
    endpoint = Endpoint(target.host, target.port, target.pin, target.user)
    secrets = directory / "secrets.yml"
    secrets.write_text(json.dumps({"nasops_qts_password": target.password}), encoding="utf-8")
    secrets.chmod(0o600)
    inventory = str(_write_files(directory, target, renamed=False))

    def step(name: str, argv: list[str], expected: int) -> None:
        code = main(argv)
        evidence.steps.append({"step": name, "exit_code": code, "expected": expected,
                               "passed": code == expected})
        say(f"{name}: exit {code} (expected {expected})")
        assert code == expected, f"{name}: exit {code}, expected {expected}"

    try:
        with QtsSession(endpoint) as session:
            session.login(target.password)
            firmware = session.firmware
            if firmware is not None:
                evidence.firmware = {"model": firmware.model, "firmware": {
                    "version": firmware.version, "number": firmware.number,
                    "build": firmware.build}}
            leftovers = (_ours([user.name for user in read_users(session)])
                         + _ours([group.name for group in read_groups(session)])
                         + _ours(read_share_names(session)))
        evidence.steps.append({"step": "no nasopstest-* on the NAS before", "found": leftovers,
                               "passed": not leftovers})
        assert not leftovers, f"remove these first: {', '.join(leftovers)}"
        step("secrets init", ["secrets", "init", "-i", inventory], 0)
        step("plan", ["plan", "-i", inventory], 0)
        accept = "--accept-unverified-firmware"
        step("apply (create, each write read back)", ["apply", "-i", inventory, accept], 0)
        step("drift after apply", ["drift", "-i", inventory], 0)
        step("second apply (nothing to do)", ["apply", "-i", inventory], 0)
        _write_files(directory, target, renamed=True)
        step("apply (rename the share in place)", ["apply", "-i", inventory, accept], 0)
        step("drift after the rename", ["drift", "-i", inventory], 0)
        with QtsSession(endpoint) as session:
            session.login(target.password)
            everyone = {row.share: row.own for row in read_group_rights(session, "everyone")}
        evidence.steps.append({"step": "the share is closed to group everyone",
                               "passed": everyone.get(SHARES[1]) is None})
        assert everyone.get(SHARES[1]) is None, f"everyone has {everyone.get(SHARES[1])}"
    finally:
        _clean_up(endpoint, target.password, evidence)
        document = evidence.document(getpass.getuser())
        evidence_directory.mkdir(parents=True, exist_ok=True)
        firmware_key = "-".join(str(value) for value in document.get("firmware", {}).values())
        name = (f"{document.get('model', 'unknown')}-{firmware_key or 'unknown'}-"
                f"{document['date'].replace(':', '')}.json")
        (evidence_directory / name).write_text(json.dumps(document, indent=2) + "\n",
                                                encoding="utf-8")
        say(f"evidence: {evidence_directory / name}")
    assert all(entry["passed"] for entry in evidence.cleanup), evidence.cleanup
    return document


def _clean_up(endpoint: Endpoint, password: str, evidence: Evidence) -> None:
    """Remove every nasopstest-* person, group and share (a share's data is kept: QTS's
    delsymboliconly), each removal read back. Forms: our reading (design notes §1.2)."""
    with QtsSession(endpoint) as session:
        session.login(password)
        users = _ours([user.name for user in read_users(session)])
        groups = _ours([group.name for group in read_groups(session)])
        shares = _ours(read_share_names(session))
        for user in users:
            session.read(PRIVILEGES, {"subfunc": "user", "apply": "1", "fork_del": "1",
                                      "user_list": user, "delete_userhome": "0"},
                         f"removing {user}")
        for group in groups:
            session.read(PRIVILEGES, {"subfunc": "group", "apply": "1", "group_list": group},
                         f"removing group {group}")
        for share in shares:
            session.read(PRIVILEGES, {"subfunc": "share", "apply": "1", "share_list": share,
                                      "delsymboliconly": "1"}, f"removing share {share}")
        left = (_ours([user.name for user in read_users(session)])
                + _ours([group.name for group in read_groups(session)])
                + _ours(read_share_names(session)))
    evidence.cleanup.append({"removed": [*users, *groups, *shares], "left": left,
                             "passed": not left})

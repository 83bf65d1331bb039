"""`nasops apply` on QTS hosts (issue 15): the driver's changes said as they are made and kept
in the run's record, with the firmware override when the operator gave it."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import click

from nasops.ansible.inventory import TargetHost
from nasops.ansible.run_log import RUNS_DIRECTORY_VARIABLE, RunLog, runs_root
from nasops.ansible.runner import RunInterrupted, interruptible
from nasops.cli.run_report import RunReport, masked
from nasops.errors import BadInputError, CommandFailedError, NasopsError, os_error_words
from nasops.provision.targets import Hostvars

if TYPE_CHECKING:
    from nasops.qts.commands import QtsHost

RECORD_VERSION = 1


class QtsRunRecord:
    """The kept directory of a QTS apply: each change made in its log, and result.json
    (version, command, platform, exit_code, log, hosts {name: status, firmware, profile,
    unverified_firmware_accepted, made, error, warnings})."""

    def __init__(self, inventory: str, *, quiet: bool) -> None:
        try:
            self.log = RunLog.create("apply", inventory)
        except OSError as error:  # before the NAS is asked: say where and how to fix it
            raise BadInputError(
                f"{error.filename or runs_root()}: cannot keep the run's log there: "
                f"{os_error_words(error)}; set {RUNS_DIRECTORY_VARIABLE} to a folder you "
                "can write") from None
        self.hosts: dict[str, dict[str, Any]] = {}
        self.quiet = quiet  # --json: stdout holds the document alone

    def start(self, name: str) -> None:
        self.hosts[name] = {"status": "started", "firmware": None, "profile": None,
                            "unverified_firmware_accepted": False, "made": [], "error": None,
                            "warnings": []}
        self.log.write(f"{name}: apply on QTS\n")

    def made(self, name: str, words: str) -> None:
        """Keep and say one change as soon as it was made and read back."""
        self.hosts[name]["made"].append(words)
        self.log.write(f"{name}: made: {words}\n")
        if not self.quiet:
            click.echo(f"{name}: {words}")

    def finished(self, name: str, firmware: str, profile: str, accepted: bool) -> None:
        host = self.hosts[name]
        host.update(status="changed" if host["made"] else "ok", firmware=firmware,
                    profile=profile, unverified_firmware_accepted=accepted)
        if accepted:
            self.log.write(f"{name}: written to {firmware} without a verified profile: "
                           "--accept-unverified-firmware given\n")

    def failed(self, name: str, message: str, *, status: str = "failed") -> None:
        self.hosts[name].update(status=status, error=message)
        self.log.write(f"{name}: stopped: {message}\n")

    def close(self, exit_code: int) -> None:
        """Write result.json; a host still "started" was cut off (exit_code says how)."""
        for host in self.hosts.values():
            if host["status"] == "started":
                host.update(status="interrupted")
        # Masked value by value, before JSON escapes a secret's quotes (run_report.masked).
        self.log.write_result(masked({"version": RECORD_VERSION, "command": "apply",
                                      "platform": "qts", "exit_code": exit_code,
                                      "log": str(self.log.path), "hosts": self.hosts}))


def apply_qts(report: RunReport, targets: list[TargetHost], hostvars: Hostvars,
              vault_password_file: str | None, *, accept_unverified_firmware: bool) -> None:
    """apply on QTS hosts (nasops.qts.commands.apply_host), one after the other; the first
    refusal or failure stops the run (exit 2 or 1) naming the kept log."""
    from nasops.qts.commands import endpoints, prepared_hosts  # noqa: PLC0415

    if report.tags:
        raise BadInputError("--tags are not built for QTS hosts (docs/qts.md)")
    # Every host's passwords first: a missing one stops the run before any NAS is asked.
    hosts = prepared_hosts(endpoints(targets, hostvars), vault_password_file, people=True)
    record = QtsRunRecord(report.inventory, quiet=report.as_json)
    report.qts_log = str(record.log.path)
    exit_code = 0
    try:
        # SIGTERM and SIGHUP as Ctrl-C: the session logs out, the record says where it stopped.
        with interruptible():
            for host in hosts:
                _apply_one(host, record, accept_unverified_firmware=accept_unverified_firmware)
    except NasopsError as error:  # an interruption too (RunInterrupted: 128 + signal)
        exit_code = error.exit_code
        error.args = (f"{error}\nfull log: {record.log.path}",)
        raise
    except BaseException:
        exit_code = 1
        raise
    finally:
        record.close(exit_code)
        # --json: the same hosts as the record, in the run document.
        report.qts_hosts.update({name: {**host, "change_count": host.get(
            "change_count", len(host["made"]))}
                                 for name, host in record.hosts.items()})
    if not report.as_json:
        click.echo(f"full log: {record.log.path}")


def _apply_one(host: QtsHost, record: QtsRunRecord, *,
               accept_unverified_firmware: bool) -> None:
    from nasops.qts.commands import apply_host  # noqa: PLC0415
    from nasops.qts.writes import WriteNotMadeError  # noqa: PLC0415

    name = host.target.name
    record.start(name)
    try:
        done = apply_host(host, accept_unverified_firmware=accept_unverified_firmware,
                          say=functools.partial(record.made, name))
    except WriteNotMadeError as error:
        record.failed(name, str(error))
        raise CommandFailedError(str(error)) from None
    except RunInterrupted as error:
        record.failed(name, str(error), status="interrupted")
        raise
    except NasopsError as error:
        record.failed(name, str(error))
        raise
    record.finished(name, done.firmware, done.profile, done.unverified_firmware_accepted)
    made = len(done.outcome.made) + done.folders_count
    record.hosts[name]["change_count"] = made  # 500 folder changes per share are listed
    record.hosts[name]["warnings"] = list(done.warnings)
    for warning in done.warnings:  # on stderr also with --json, as Debian's warnings
        record.log.write(f"warning: {warning}\n")
        click.echo(f"warning: {warning}", err=True)
    if record.quiet:
        return
    click.echo(f"{name}: {made} change{'s' * (made != 1)} made, each read back" if made else
               f"{name}: no changes: people, groups, shares and share rights match the spec"
               + ("" if host.endpoint.ssh is None else ", and so do the folders"))

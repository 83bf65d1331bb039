"""A host that boots degraded is an error naming each failed unit and why it failed."""

from __future__ import annotations

from nasops.lab.health import DegradedHostError, FailedUnit, describe, parse_failed_units

STATUS = """\
× systemd-remount-fs.service - Remount Root and Kernel File Systems
     Loaded: loaded (/lib/systemd/system/systemd-remount-fs.service; enabled-runtime)
     Active: failed (Result: exit-code) since Sat 2026-12-05 22:40:01 UTC; 1s ago
    Process: 19 ExecStart=/lib/systemd/systemd-remount-fs (code=exited, status=219/CGROUP)"""


def test_failed_units_are_read_with_or_without_the_state_mark() -> None:
    listing = (
        "systemd-remount-fs.service loaded failed failed Remount Root and Kernel File Systems\n"
        "● smbd.service loaded failed failed Samba SMB Daemon\n"
        "\n"
    )
    assert parse_failed_units(listing) == ["systemd-remount-fs.service", "smbd.service"]
    assert parse_failed_units("") == []


def test_the_error_names_the_unit_and_how_its_process_ended() -> None:
    error = DegradedHostError("example", "degraded", (FailedUnit("systemd-remount-fs.service",
                                                                 STATUS),))
    text = str(error)
    assert text.startswith("lab host example booted but is degraded")
    assert "failed unit systemd-remount-fs.service:" in text
    assert "  Process: 19 ExecStart=" in text.replace("      ", "  ")
    assert "status=219/CGROUP" in text
    assert error.failed[0].name == "systemd-remount-fs.service"


def test_a_host_not_running_without_a_failed_unit_says_so() -> None:
    text = describe("nas", "starting", ())
    assert "is starting" in text and "no failed unit" in text
    assert "not running" in describe("nas", "", ())

"""A real Prometheus scrapes the exporter the nas_exporter role installed on a lab NAS.

One NAS (127.0.0.40) converged to a copy of the example spec whose share Éducation has a 20M
quota, by a real `nasops apply` (whose apply record the exporter serves). On it, before
Prometheus starts: two backup status files (one repository healthy, one whose last backup
and check failed), 19M written into Éducation, a hand-made ACL change picked up by the drift
check, an open SMB session, and the exporter's refresh intervals shortened to 2 s (its
config file, then a restart) so the test never waits for a 30 or 60 s refresh. The spec has
a third repository, `archive`, that never ran: its timer file is dated 3 days back (as if
installed then). The check and drill timers are stopped, and usb's status says its last
check ran 9 days ago and its last drill 33 days ago (what stopped weekly and monthly timers
leave behind).

Prometheus 2.42 (/usr/bin/prometheus, Debian) runs on the controller with a 1 s scrape and
evaluation interval, monitoring/nasops.rules.yml unchanged, plus a copy of those rules whose
`for:` durations are 2 s and which carry the label nasops_test="short_for": the copy proves an
alert really fires end to end (scrape, rule, ALERTS) without waiting 30 minutes; the original
is checked pending. Its target comes from a file_sd file, as `nasops monitoring targets`
writes it, so that a test can empty it (NasopsExporterAbsent). It is always terminated, by
PID, in a finalizer. The last tests stop the exporter and empty the targets.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from prometheus_lab import Prometheus, running_prometheus, target_groups
from ruamel.yaml import YAML

from nasops.cli.main import main
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = REPOSITORY / "inventory" / "example" / "wsm.yml"
RULES = REPOSITORY / "monitoring" / "nasops.rules.yml"
DASHBOARD = REPOSITORY / "monitoring" / "grafana" / "nasops-dashboard.json"
DOCS = REPOSITORY / "docs" / "exporter.md"
PROMTOOL = Path("/usr/bin/promtool")

ADDRESS = "127.0.0.40"
PORT = 9750
INSTANCE = f"{ADDRESS}:{PORT}"
SMALL_SHARE = "Éducation"
SMALL_SHARE_PATH = f"/srv/nas/wsm/{SMALL_SHARE}"
BACKUP_DIRECTORY = "/var/lib/nasops/backup"
SYNCTHING_UNIT = "nasops-syncthing.service"
COLLECTORS = ("quota", "sync", "backup", "drift", "samba")
NEVER_RAN = "archive"
NEVER_RAN_LINE = f"    - {{name: {NEVER_RAN}, url: /mnt/backup-archive/restic}}\n"
# Documented families a healthy lab NAS cannot have, and why.
ABSENT_FAMILIES = {
    "nasops_quota_walk_duration_seconds": "only shares measured by the walk; every share of "
                                          "a btrfs volume has a qgroup",
    "nasops_quota_walk_unreadable_directories": "same: no share is walked on btrfs",
    "nasops_sync_device_remote_state": "Debian 12's Syncthing 1.19 does not report remoteState "
                                       "(1.20 and later do: test_provision_cli, Debian 13)",
    "nasops_organization_limit_bytes": "only an organisation with a limit (the hosting file of "
                                       "a shared NAS: test_shared_nas reads it)",
}
# Dashboard queries that return nothing unless a laptop has connected at least once (the
# spec's device IDs are made up: no laptop can connect in the lab).
QNAP = "a QNAP read by the off-NAS QTS collector: none in the lab (tests/qts checks that " \
    "its collector exports every family these read)"
EMPTY_PANELS = {
    "Sync devices unseen for 7 days": "needs a device last seen more than 7 days ago",
    "Devices: time since last seen": "needs a device seen at least once",
    "QNAP volume free": QNAP, "QNAP share usage": QNAP, "QNAP model, firmware, health": QNAP,
    "variable nas": QNAP,
}

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T], seconds: float) -> T:
    """Call probe until it returns something true; fail with its last answer at the deadline."""
    deadline = time.monotonic() + seconds
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:g} s for {what}; last answer: {last!r}")
        time.sleep(0.5)
        last = probe()
    return last


def in_host(host: LabHost, script: str, input_text: str | None = None) -> str:
    """Run a shell script as root on the NAS; return its stdout."""
    return run_in_host(host, ["sh", "-ec", script], input_text=input_text, timeout=60).stdout


# ---------------------------------------------------------------- the NAS


def backup_status(repository: str, now: float, *, failed: bool, check_age: float = 3500,
                  drill_age: float = 3300) -> dict[str, Any]:
    """A status file of `nasops backup` (nasops.backup.status, version 1); the last check and
    drill ended check_age and drill_age seconds ago."""
    success = {"started_at": now - 7200, "finished_at": now - 7140, "result": "success",
               "duration_seconds": 60.0, "error_kind": None, "message": None,
               "snapshot_id": "1a2b3c4d", "files_new": 3, "files_changed": 1,
               "files_unmodified": 10, "files_total": 14, "bytes_new": 4096,
               "bytes_total": 65536, "restic_duration_seconds": 55.0, "unreadable_files": [],
               "unreadable_file_count": 0, "snapshot_count": 5}
    failure = {"started_at": now - 660, "finished_at": now - 600, "result": "failed",
               "duration_seconds": 60.0, "error_kind": "repository_unreachable",
               "message": "cannot reach the repository"}
    check = {"started_at": now - check_age - 100, "finished_at": now - check_age,
             "duration_seconds": 100.0,
             "result": "success", "error_kind": None, "message": None,
             "read_data_subset": "5%"}
    drill = {"started_at": now - drill_age - 100, "finished_at": now - drill_age,
             "duration_seconds": 100.0,
             "result": "success", "error_kind": None, "message": None,
             "snapshot_id": "1a2b3c4d", "sampled_files": 50, "verified_files": 50,
             "compared_with_source": 47, "problems": [], "problem_count": 0}
    return {"version": 1, "repository": repository, "updated_at": now,
            "restic_version": "0.14.0",
            "backup": {"last_attempt": failure if failed else success, "last_success": success},
            "check": {"last_attempt": {**check, "result": "failed"} if failed else check,
                      "last_success": check},
            "drill": {"last_attempt": drill, "last_success": drill}}


WRITE_FILES = """
import json, os, sys
for path, text in json.load(sys.stdin).items():
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)
"""

SHORTEN_INTERVALS = """
import json
path = "/etc/nasops/exporter.json"
with open(path) as handle:
    config = json.load(handle)
for section in ("quota", "samba", "syncthing"):
    if config.get(section) is not None:
        config[section]["refresh_interval_seconds"] = 2
with open(path, "w") as handle:
    json.dump(config, handle)
"""


def write_files(host: LabHost, files: dict[str, str]) -> None:
    """Write files on the NAS atomically, as root, mode 0644."""
    run_in_host(host, ["python3", "-c", WRITE_FILES], input_text=json.dumps(files))


@dataclass
class MonitoredNas:
    """The converged NAS and what the test set up on it."""

    host: LabHost
    syncthing_running: bool
    setup_seconds: dict[str, float]


@pytest.fixture(scope="module")
def nas(lab_hosts: LabHostFactory, tmp_path_factory: pytest.TempPathFactory) -> MonitoredNas:
    """The lab NAS, converged with the exporter and prepared as the module docstring says."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    host = lab_hosts("mon", ADDRESS)
    timings["boot"] = time.monotonic() - started
    directory = tmp_path_factory.mktemp("monitoring")
    text = EXAMPLE_SPEC.read_text(encoding="utf-8")
    small = re.sub(r"(- name: Éducation\n(?:    .*\n)*?    quota: )100G", r"\g<1>20M", text)
    assert small != text, "the example spec no longer has Éducation's 100G quota"
    usb_line = "    - {name: usb, url: /mnt/backup-usb/restic}\n"
    assert usb_line in small, "the example spec no longer has the usb repository"
    small = small.replace(usb_line, usb_line + NEVER_RAN_LINE)
    (directory / "wsm.yml").write_text(small, encoding="utf-8")
    inventory = directory / "inventory.yml"
    inventory.write_text(render_inventory(host, {"nasops_spec": "wsm.yml",
                                                 "nasops_secrets_file": "secrets.yml"}),
                         encoding="utf-8")
    assert main(["secrets", "init", "-i", str(inventory)]) == 0

    # The real `nasops apply`: its apply record (written on the NAS through the apply lock,
    # the record's one writer) is part of what the exporter serves.
    started = time.monotonic()
    assert main(["apply", "-q", "-i", str(inventory)]) == 0
    timings["apply"] = time.monotonic() - started

    started = time.monotonic()
    secrets = YAML(typ="safe").load((directory / "secrets.yml").read_text(encoding="utf-8"))
    now = time.time()
    write_files(host, {
        f"{BACKUP_DIRECTORY}/usb.json": json.dumps(backup_status(
            "usb", now, failed=False, check_age=9 * 86400, drill_age=33 * 86400)),
        f"{BACKUP_DIRECTORY}/offsite.json": json.dumps(backup_status("offsite", now,
                                                                     failed=True)),
    })
    # 19M of 20M (95 %): NasopsQuotaAlmostFull (≥ 90 %) but not NasopsQuotaFull (≥ 98 %).
    # sync commits the btrfs transaction, so the qgroup counts the data at once.
    in_host(host, f"dd if=/dev/urandom of='{SMALL_SHARE_PATH}/filler.bin' bs=1M count=19 "
                  "status=none conv=fsync; sync")
    # Drift: an ACL entry by hand; the drift check (the unit the timer starts) records it.
    in_host(host, "setfacl -m other::r-x /srv/nas/wsm/Direction; "
                  "systemctl restart nasops-drift-check.service")  # not one still running
    # An SMB session that stays open (smbclient waits for commands on its stdin); smbclient
    # takes the password from $PASSWD, read here from stdin (not on any command line).
    password = secrets["nasops_user_passwords"]["adiallo"]
    in_host(host, "systemd-run --quiet --unit=nasops-test-smb --collect "
                  "--setenv=PASSWD=\"$(cat)\" sh -c "
                  f"'sleep 900 | smbclient //{ADDRESS}/Afrique -U adiallo'",
            input_text=password)
    syncthing = run_in_host(host, ["systemctl", "is-active", SYNCTHING_UNIT],
                            accepted_codes=(0, 3, 4)).stdout.strip() == "active"
    # archive's timer installed 3 days ago and never run; the check and drill timers stopped.
    in_host(host, f"touch -d '3 days ago' /etc/systemd/system/nasops-backup@{NEVER_RAN}.timer; "
                  "systemctl stop nasops-backup-check.timer nasops-backup-drill.timer")
    run_in_host(host, ["python3", "-c", SHORTEN_INTERVALS])
    run_in_host(host, ["systemctl", "restart", "nasops-exporter.service"])
    timings["setup"] = time.monotonic() - started
    print("monitoring fixture: " + ", ".join(f"{step} {seconds:.1f} s"
                                             for step, seconds in timings.items()))
    return MonitoredNas(host, syncthing, timings)


# ---------------------------------------------------------------- Prometheus


def short_for_rules() -> dict[str, Any]:
    """The rules file with every `for:` at 2 s, renamed groups and a nasops_test label."""
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in document["groups"]:
        group["name"] += "-short-for"
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "2s"
            rule.setdefault("labels", {})["nasops_test"] = "short_for"
    return dict(document)


LABELS = {"organization": "wsm", "host": "mon"}
TARGETS = target_groups([INSTANCE], LABELS)


@pytest.fixture(scope="module")
def prometheus(nas: MonitoredNas, tmp_path_factory: pytest.TempPathFactory,
               ) -> Iterator[Prometheus]:
    """Prometheus on 127.0.0.1:<free port>, scraping the NAS every second with the shipped
    rules and their short-for copy."""
    directory = tmp_path_factory.mktemp("prometheus")
    short_for = directory / "short-for.rules.yml"
    short_for.write_text(yaml.safe_dump(short_for_rules()), encoding="utf-8")
    with running_prometheus(directory, [INSTANCE], [RULES, short_for], LABELS) as server:
        yield server


# ---------------------------------------------------------------- the tests


def documented_families() -> set[str]:
    return set(re.findall(r"^\| `(nasops_[a-z_]+)`", DOCS.read_text(encoding="utf-8"),
                          re.MULTILINE))


def rule_expressions() -> list[tuple[str, str]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [(rule["alert"], rule["expr"]) for group in document["groups"]
            for rule in group["rules"]]


def with_variables(expression: str) -> str:
    """The dashboard's expression with the values Grafana would put for its variables."""
    return expression.replace("$instance", INSTANCE).replace("$organization", "wsm")


def panel_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = [(panel["title"], with_variables(target["expr"]))
             for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        match = re.fullmatch(r"label_values\((.+), *\w+\)", variable.get("definition", ""))
        if variable["type"] == "query" and match:
            found.append((f"variable {variable['name']}", with_variables(match.group(1))))
    return found


def test_the_exporter_runs_unprivileged(nas: MonitoredNas) -> None:
    script = ("pid=$(systemctl show -P MainPID nasops-exporter.service); "
              "stat -c %U /proc/$pid; grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs):' "
              "/proc/$pid/status; stat -c '%U:%G %a' /run/nasops-exporter-privileged.sock")
    lines = in_host(nas.host, script).split()
    assert lines[0] == "nasops-exporter"
    status = dict(zip(lines[1:9:2], lines[2:9:2], strict=True))
    assert status == {"CapEff:": "0000000000000000", "CapBnd:": "0000000000000000",
                      "CapAmb:": "0000000000000000", "NoNewPrivs:": "1"}
    assert lines[9:] == ["root:nasops-exporter", "660"]


def test_every_documented_metric_family_appears(prometheus: Prometheus,
                                                nas: MonitoredNas) -> None:
    assert nas.syncthing_running, f"{SYNCTHING_UNIT} is not running after the apply"
    expected = documented_families() - set(ABSENT_FAMILIES)

    def missing() -> set[str]:
        names = prometheus.values(
            f'count by (__name__) ({{__name__=~"nasops_.+", instance="{INSTANCE}"}})',
            "__name__")
        return expected - set(names)

    # The SMB session and the first Syncthing answers arrive within a refresh or two.
    deadline = time.monotonic() + 30
    while missing() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not missing(), "documented families missing from the scrape"
    assert prometheus.values("nasops_collector_up", "collector") == dict.fromkeys(COLLECTORS,
                                                                                   1.0)
    drift = prometheus.values("nasops_drift_items_by_kind", "kind")
    assert drift.get("acl", 0) >= 1, drift


@pytest.mark.parametrize(("alert", "expression"), rule_expressions(),
                         ids=[alert for alert, _ in rule_expressions()])
def test_every_alert_expression_evaluates(prometheus: Prometheus, alert: str,
                                          expression: str) -> None:
    prometheus.query(expression)  # fails the test on any evaluation error


def test_every_dashboard_query_returns_series(prometheus: Prometheus) -> None:
    # Firing alerts: the failed backup and check of `offsite` fire at once (no `for:`).
    wait_for("a firing nasops alert", lambda: prometheus.query(
        'ALERTS{alertstate="firing", alertname="NasopsBackupFailed"}'), 20)

    def empty() -> list[tuple[str, str]]:
        return [(title, expression) for title, expression in panel_expressions()
                if title not in EMPTY_PANELS and not prometheus.query(expression)]

    deadline = time.monotonic() + 20
    while empty() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert empty() == [], "dashboard queries without series"
    for title in EMPTY_PANELS:
        for panel, expression in panel_expressions():
            if panel == title:
                prometheus.query(expression)  # still valid PromQL


def test_a_share_past_90_percent_fires_the_quota_alert(prometheus: Prometheus) -> None:
    ratio = prometheus.values("nasops_quota_used_bytes / nasops_quota_limit_bytes", "share")
    assert 0.9 <= ratio[SMALL_SHARE] < 0.98, ratio
    assert all(value < 0.5 for share, value in ratio.items() if share != SMALL_SHARE)
    firing = wait_for("NasopsQuotaAlmostFull firing (rules copy, for: 2s)",
                      lambda: prometheus.values(
                          'ALERTS{alertname="NasopsQuotaAlmostFull", alertstate="firing", '
                          'nasops_test="short_for"}', "share"), 20)
    assert set(firing) == {SMALL_SHARE}
    # The unchanged rule waits its 30 minutes: pending for the same share only.
    pending = prometheus.values('ALERTS{alertname="NasopsQuotaAlmostFull", '
                                'nasops_test=""}', "alertstate")
    assert pending == {"pending": 1.0}
    assert prometheus.query('ALERTS{alertname="NasopsQuotaFull"}') == []


def test_a_corrupt_backup_status_file_only_downs_the_backup_collector(
        prometheus: Prometheus, nas: MonitoredNas) -> None:
    good = in_host(nas.host, f"cat {BACKUP_DIRECTORY}/usb.json")
    try:
        write_files(nas.host, {f"{BACKUP_DIRECTORY}/usb.json": '{"version": 1, "backup": '})
        wait_for("the backup collector down", lambda: prometheus.values(
            "nasops_collector_up", "collector").get("backup") == 0, 15)
        up = prometheus.values("nasops_collector_up", "collector")
        assert up == {**dict.fromkeys(COLLECTORS, 1.0), "backup": 0.0}
        assert prometheus.values("nasops_backup_status_valid", "repository") == {
            "usb": 0.0, "offsite": 1.0}
        assert prometheus.values(f'up{{instance="{INSTANCE}"}}', "instance") == {INSTANCE: 1}
    finally:
        write_files(nas.host, {f"{BACKUP_DIRECTORY}/usb.json": good})
    wait_for("the backup collector up again", lambda: prometheus.values(
        "nasops_collector_up", "collector").get("backup") == 1, 15)


def test_a_stopped_syncthing_only_downs_the_sync_collector(prometheus: Prometheus,
                                                          nas: MonitoredNas) -> None:
    assert nas.syncthing_running, f"{SYNCTHING_UNIT} is not running after the apply"
    run_in_host(nas.host, ["systemctl", "stop", SYNCTHING_UNIT])
    wait_for("the sync collector down", lambda: prometheus.values(
        "nasops_collector_up", "collector").get("sync") == 0, 20)
    # A few more scrapes: the exporter keeps answering and the others stay up.
    time.sleep(3)
    assert prometheus.values("nasops_collector_up", "collector") == {
        **dict.fromkeys(COLLECTORS, 1.0), "sync": 0.0}
    assert prometheus.values(f'up{{instance="{INSTANCE}"}}', "instance") == {INSTANCE: 1}
    assert prometheus.query("nasops_sync_folder_info") == []


def test_the_real_scrape_passes_promtool_check_metrics(nas: MonitoredNas) -> None:
    with urllib.request.urlopen(f"http://{INSTANCE}/metrics", timeout=10) as answer:
        exposition = answer.read()
    assert b"nasops_backup_never_ran" in exposition
    checked = subprocess.run([str(PROMTOOL), "check", "metrics"], input=exposition,
                             capture_output=True, check=False, timeout=60)
    assert checked.returncode == 0, (checked.stdout + checked.stderr).decode()


def short_for_alerts(prometheus: Prometheus, alert: str, label: str) -> dict[str, float]:
    """The firing alerts of the short-for rules copy, by the value of label."""
    return prometheus.values(f'ALERTS{{alertname="{alert}", alertstate="firing", '
                             f'nasops_test="short_for"}}', label)


def test_the_schedules_are_expanded_by_systemd_on_the_nas(prometheus: Prometheus) -> None:
    intervals = prometheus.query("nasops_backup_schedule_interval_seconds")
    by_task = {(series["metric"]["repository"], series["metric"]["task"]):
               float(series["value"][1]) for series in intervals}
    # "*-*-* 01:30", weekly and monthly, as the NAS's systemd-analyze expands them.
    for repository in ("usb", "offsite", NEVER_RAN):
        assert by_task[(repository, "backup")] == 86400
        assert by_task[(repository, "check")] == 7 * 86400
        assert by_task[(repository, "drill")] == 31 * 86400
    assert prometheus.values("nasops_backup_expected", "repository") == {
        "usb": 1.0, "offsite": 1.0, NEVER_RAN: 1.0}


def test_a_repository_that_never_ran_fires_its_alert(prometheus: Prometheus,
                                                     nas: MonitoredNas) -> None:
    assert in_host(nas.host, f"ls {BACKUP_DIRECTORY}").split() == ["offsite.json", "usb.json"]
    assert prometheus.values('nasops_backup_never_ran{task="backup"}', "repository") == {
        "usb": 0.0, "offsite": 0.0, NEVER_RAN: 1.0}
    age = prometheus.values('time() - nasops_backup_scheduled_since_timestamp_seconds'
                            '{task="backup"}', "repository")[NEVER_RAN]
    assert 3 * 86400 - 600 < age < 3 * 86400 + 600, age
    firing = wait_for("NasopsBackupNeverRan firing (rules copy)", lambda: short_for_alerts(
        prometheus, "NasopsBackupNeverRan", "repository"), 20)
    assert set(firing) == {NEVER_RAN}
    pending = prometheus.values('ALERTS{alertname="NasopsBackupNeverRan", nasops_test=""}',
                                "alertstate")
    assert pending == {"pending": 1.0}


@pytest.mark.parametrize(("alert", "timer"), [
    ("NasopsBackupCheckNotRunning", "nasops-backup-check.timer"),
    ("NasopsRestoreDrillNotRunning", "nasops-backup-drill.timer")])
def test_a_stopped_check_or_drill_timer_fires_its_alert(prometheus: Prometheus,
                                                        nas: MonitoredNas, alert: str,
                                                        timer: str) -> None:
    state = run_in_host(nas.host, ["systemctl", "is-active", timer], accepted_codes=(3,))
    assert state.stdout.strip() == "inactive"
    # usb's last run is too old; offsite's is recent; archive never ran, but its check and
    # drill timers were installed minutes ago: not overdue.
    firing = wait_for(f"{alert} firing (rules copy)",
                      lambda: short_for_alerts(prometheus, alert, "repository"), 20)
    assert set(firing) == {"usb"}
    pending = prometheus.values(f'ALERTS{{alertname="{alert}", nasops_test=""}}',
                                "alertstate")
    assert pending == {"pending": 1.0}


def test_a_stopped_exporter_fires_exporter_down(prometheus: Prometheus,
                                                nas: MonitoredNas) -> None:
    run_in_host(nas.host, ["systemctl", "stop", "nasops-exporter.service"])
    try:
        firing = wait_for("NasopsExporterDown firing (rules copy)", lambda: short_for_alerts(
            prometheus, "NasopsExporterDown", "instance"), 20)
        assert set(firing) == {INSTANCE}
    finally:
        run_in_host(nas.host, ["systemctl", "start", "nasops-exporter.service"])
    wait_for("the exporter scraped again", lambda: prometheus.values(
        f'up{{instance="{INSTANCE}"}}', "instance") == {INSTANCE: 1}, 30)


def test_no_target_at_all_fires_exporter_absent(prometheus: Prometheus) -> None:
    assert prometheus.query('ALERTS{alertname="NasopsExporterAbsent"}') == []
    prometheus.targets_file.write_text("[]", encoding="utf-8")
    try:
        wait_for("NasopsExporterAbsent firing (rules copy)", lambda: prometheus.query(
            'ALERTS{alertname="NasopsExporterAbsent", alertstate="firing", '
            'nasops_test="short_for"}'), 30)
    finally:
        prometheus.targets_file.write_text(json.dumps(TARGETS), encoding="utf-8")

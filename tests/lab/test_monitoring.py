"""A real Prometheus scrapes the exporter the nas_exporter role installed on a lab NAS.

One NAS (127.0.0.40) converged to a copy of the example spec whose share Éducation has a 20M
quota, through playbooks/site.yml (real run only: the check pass of `nasops apply` is tested
in test_provision_cli.py). On it, before Prometheus starts: two backup status files (one
repository healthy, one whose last backup and check failed), 19M written into Éducation, a
hand-made ACL change picked up by the drift check, an open SMB session, and the exporter's
refresh intervals shortened to 2 s (its config file, then a restart) so the test never waits
for a 30 or 60 s refresh.

Prometheus 2.42 (/usr/bin/prometheus, Debian) runs on the controller with a 1 s scrape and
evaluation interval, monitoring/nasops.rules.yml unchanged, plus a copy of those rules whose
`for:` durations are 2 s and which carry the label nasops_test="short_for": the copy proves an
alert really fires end to end (scrape, rule, ALERTS) without waiting 30 minutes; the original
is checked pending. It is always terminated, by PID, in a finalizer.
"""

from __future__ import annotations

import json
import re
import socket
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
from ruamel.yaml import YAML

from nasops.ansible import prepared_workspace, read_targets, run_playbook
from nasops.ansible.summary import render_failures
from nasops.cli.main import main
from nasops.lab import LabHost, render_inventory, run_in_host
from nasops.lab.testing import LabHostFactory

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_SPEC = REPOSITORY / "inventory" / "example" / "wsm.yml"
RULES = REPOSITORY / "monitoring" / "nasops.rules.yml"
DASHBOARD = REPOSITORY / "monitoring" / "grafana" / "nasops-dashboard.json"
DOCS = REPOSITORY / "docs" / "exporter.md"
PROMETHEUS = Path("/usr/bin/prometheus")

ADDRESS = "127.0.0.40"
PORT = 9750
INSTANCE = f"{ADDRESS}:{PORT}"
SMALL_SHARE = "Éducation"
SMALL_SHARE_PATH = f"/srv/nas/wsm/{SMALL_SHARE}"
BACKUP_DIRECTORY = "/var/lib/nasops/backup"
SYNCTHING_UNIT = "nasops-syncthing.service"
COLLECTORS = ("quota", "sync", "backup", "drift", "samba")
# Documented families a healthy lab NAS cannot have, and why.
ABSENT_FAMILIES = {
    "nasops_quota_walk_duration_seconds": "only shares measured by the walk; every share of "
                                          "a btrfs volume has a qgroup",
    "nasops_quota_walk_unreadable_directories": "same: no share is walked on btrfs",
}
# Dashboard queries that return nothing unless a laptop has connected at least once (the
# spec's device IDs are made up: no laptop can connect in the lab).
EMPTY_PANELS = {
    "Sync devices unseen for 7 days": "needs a device last seen more than 7 days ago",
    "Devices: time since last seen": "needs a device seen at least once",
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


def backup_status(repository: str, now: float, *, failed: bool) -> dict[str, Any]:
    """A status file of `nasops backup` (nasops.backup.status, version 1)."""
    success = {"started_at": now - 7200, "finished_at": now - 7140, "result": "success",
               "duration_seconds": 60.0, "error_kind": None, "message": None,
               "snapshot_id": "1a2b3c4d", "files_new": 3, "files_changed": 1,
               "files_unmodified": 10, "files_total": 14, "bytes_new": 4096,
               "bytes_total": 65536, "restic_duration_seconds": 55.0, "unreadable_files": [],
               "unreadable_file_count": 0, "snapshot_count": 5}
    failure = {"started_at": now - 660, "finished_at": now - 600, "result": "failed",
               "duration_seconds": 60.0, "error_kind": "repository_unreachable",
               "message": "cannot reach the repository"}
    check = {"started_at": now - 3600, "finished_at": now - 3500, "duration_seconds": 100.0,
             "result": "success", "error_kind": None, "message": None,
             "read_data_subset": "5%"}
    drill = {"started_at": now - 3400, "finished_at": now - 3300, "duration_seconds": 100.0,
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
    (directory / "wsm.yml").write_text(small, encoding="utf-8")
    inventory = directory / "inventory.yml"
    inventory.write_text(render_inventory(host, {"nasops_spec": "wsm.yml",
                                                 "nasops_secrets_file": "secrets.yml"}),
                         encoding="utf-8")
    assert main(["secrets", "init", "-i", str(inventory)]) == 0

    started = time.monotonic()
    targets = read_targets(str(inventory))
    with prepared_workspace(targets) as workspace:
        result = run_playbook(workspace, str(inventory), check=False)
    timings["apply"] = time.monotonic() - started
    assert not result.failed, render_failures(result)

    started = time.monotonic()
    secrets = YAML(typ="safe").load((directory / "secrets.yml").read_text(encoding="utf-8"))
    now = time.time()
    write_files(host, {
        f"{BACKUP_DIRECTORY}/usb.json": json.dumps(backup_status("usb", now, failed=False)),
        f"{BACKUP_DIRECTORY}/offsite.json": json.dumps(backup_status("offsite", now,
                                                                     failed=True)),
    })
    # 19M of 20M (95 %): NasopsQuotaAlmostFull (≥ 90 %) but not NasopsQuotaFull (≥ 98 %).
    # sync commits the btrfs transaction, so the qgroup counts the data at once.
    in_host(host, f"dd if=/dev/urandom of='{SMALL_SHARE_PATH}/filler.bin' bs=1M count=19 "
                  "status=none conv=fsync; sync")
    # Drift: an ACL entry by hand; the drift check (the unit the timer starts) records it.
    in_host(host, "setfacl -m other::r-x /srv/nas/wsm/Direction; "
                  "systemctl start nasops-drift-check.service")
    # An SMB session that stays open (smbclient waits for commands on its stdin); smbclient
    # takes the password from $PASSWD, read here from stdin (not on any command line).
    password = secrets["nasops_user_passwords"]["adiallo"]
    in_host(host, "systemd-run --quiet --unit=nasops-test-smb --collect "
                  "--setenv=PASSWD=\"$(cat)\" sh -c "
                  f"'sleep 900 | smbclient //{ADDRESS}/Afrique -U adiallo'",
            input_text=password)
    syncthing = run_in_host(host, ["systemctl", "is-active", SYNCTHING_UNIT],
                            accepted_codes=(0, 3, 4)).stdout.strip() == "active"
    run_in_host(host, ["python3", "-c", SHORTEN_INTERVALS])
    run_in_host(host, ["systemctl", "restart", "nasops-exporter.service"])
    timings["setup"] = time.monotonic() - started
    print("monitoring fixture: " + ", ".join(f"{step} {seconds:.1f} s"
                                             for step, seconds in timings.items()))
    return MonitoredNas(host, syncthing, timings)


# ---------------------------------------------------------------- Prometheus


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


@dataclass
class Prometheus:
    """A running Prometheus and its HTTP API."""

    url: str

    def query(self, expression: str) -> list[dict[str, Any]]:
        """Given PromQL, return the result vector; fail the test on any API error."""
        address = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
        try:
            with urllib.request.urlopen(address, timeout=10) as answer:  # noqa: S310
                body = json.load(answer)
        except urllib.error.HTTPError as error:
            pytest.fail(f"{expression}: HTTP {error.code}: {error.read()[:500]!r}")
        assert body["status"] == "success", (expression, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def values(self, expression: str, label: str) -> dict[str, float]:
        """Given PromQL and a label, return label value -> sample value."""
        return {series["metric"].get(label, ""): float(series["value"][1])
                for series in self.query(expression)}


@pytest.fixture(scope="module")
def prometheus(nas: MonitoredNas, tmp_path_factory: pytest.TempPathFactory,
               request: pytest.FixtureRequest) -> Iterator[Prometheus]:
    """Prometheus on 127.0.0.1:<free port>, scraping the NAS every second."""
    if not PROMETHEUS.is_file():
        pytest.fail("/usr/bin/prometheus is missing: apt-get install prometheus", pytrace=False)
    directory = tmp_path_factory.mktemp("prometheus")
    (directory / "short-for.rules.yml").write_text(yaml.safe_dump(short_for_rules()),
                                                   encoding="utf-8")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s",
                   "scrape_timeout": "1s"},
        "rule_files": [str(RULES), str(directory / "short-for.rules.yml")],
        "scrape_configs": [{
            "job_name": "nasops",
            "static_configs": [{"targets": [INSTANCE],
                                "labels": {"organization": "wsm", "host": "mon"}}],
        }],
    }
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (directory / "prometheus.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [str(PROMETHEUS), f"--config.file={directory / 'prometheus.yml'}",
         f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop() -> None:
        if process.poll() is None:
            process.terminate()  # by its PID: only the process this fixture started
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log.close()

    request.addfinalizer(stop)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail("prometheus exited:\n"
                        + (directory / "prometheus.log").read_text(encoding="utf-8")[-3000:])
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:
            return False

    wait_for("Prometheus to be ready", ready, 60)
    server = Prometheus(url)
    wait_for("a successful scrape of the exporter",
             lambda: server.values(f'up{{instance="{INSTANCE}"}}', "instance") == {INSTANCE: 1},
             30)
    yield server
    stop()


# ---------------------------------------------------------------- the tests


def documented_families() -> set[str]:
    return set(re.findall(r"^\| `(nasops_[a-z_]+)`", DOCS.read_text(encoding="utf-8"),
                          re.MULTILINE))


def rule_expressions() -> list[tuple[str, str]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [(rule["alert"], rule["expr"]) for group in document["groups"]
            for rule in group["rules"]]


def panel_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = [(panel["title"], target["expr"].replace("$instance", INSTANCE))
             for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        match = re.fullmatch(r"label_values\((.+), *\w+\)", variable.get("definition", ""))
        if variable["type"] == "query" and match:
            found.append((f"variable {variable['name']}", match.group(1)))
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
    wait_for("every documented family", lambda: not missing() or None, 30)
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

    wait_for("every dashboard query to return series", lambda: not empty() or None, 20)
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

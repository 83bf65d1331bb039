"""A real Prometheus for lab tests: started on 127.0.0.1, scraping lab NAS exporters with the
shipped alert rules, always stopped by its PID.

    with running_prometheus(directory, ["127.0.0.60:9750"], [RULES]) as prometheus:
        prometheus.values("nasops_drift_items", "instance")
"""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from polling import wait_until

PROMETHEUS = Path("/usr/bin/prometheus")
RULES = Path(__file__).resolve().parents[2] / "monitoring" / "nasops.rules.yml"


@dataclass
class Prometheus:
    """A running Prometheus and its HTTP API; rewriting `targets_file` (file_sd, read every
    second) changes what it scrapes."""

    url: str
    targets_file: Path

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

    def alerts(self) -> list[dict[str, Any]]:
        """Return the alerts pending or firing now (GET /api/v1/alerts)."""
        with urllib.request.urlopen(f"{self.url}/api/v1/alerts", timeout=10) as answer:  # noqa: S310
            return list(json.load(answer)["data"]["alerts"])

    def wait_for(self, what: str, probe: Any, seconds: float) -> Any:
        """Poll `probe` until it returns something truthy; fail naming `what` after `seconds`."""
        return wait_until(what, probe, seconds)


def target_groups(targets: Sequence[str], labels: dict[str, str] | None = None,
                  ) -> list[dict[str, Any]]:
    """Given scrape targets and their labels, return the file_sd document."""
    return [{"targets": list(targets), "labels": dict(labels or {})}]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_prometheus(directory: Path, targets: Sequence[str], rule_files: Sequence[Path],
                       labels: dict[str, str] | None = None) -> Iterator[Prometheus]:
    """Run Prometheus (1 s scrape and evaluation) on `targets` with `rule_files` until the
    block ends; fail if it is missing or does not scrape every target."""
    if not PROMETHEUS.is_file():
        pytest.fail("/usr/bin/prometheus is missing: apt-get install prometheus", pytrace=False)
    targets_file = directory / "targets.json"
    targets_file.write_text(json.dumps(target_groups(targets, labels)), encoding="utf-8")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s",
                   "scrape_timeout": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [{"job_name": "nasops",
                            "file_sd_configs": [{"files": [str(targets_file)],
                                                 "refresh_interval": "1s"}]}],
    }
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = _free_port()
    log_path = directory / "prometheus.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(PROMETHEUS), f"--config.file={directory / 'prometheus.yml'}",
             f"--storage.tsdb.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            server = Prometheus(f"http://127.0.0.1:{port}", targets_file)

            def ready() -> bool:
                if process.poll() is not None:
                    pytest.fail("prometheus exited:\n"
                                + log_path.read_text(encoding="utf-8")[-3000:])
                try:
                    with urllib.request.urlopen(f"{server.url}/-/ready",  # noqa: S310
                                                timeout=2) as answer:
                        return bool(answer.status == 200)
                except OSError:
                    return False

            server.wait_for("Prometheus to be ready", ready, 60)
            server.wait_for("a successful scrape of every target",
                            lambda: server.values("up == 1", "instance").keys() >= set(targets),
                            30)
            yield server
        finally:
            process.terminate()  # by its PID: only the process this helper started
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

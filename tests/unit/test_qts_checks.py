"""A spec checked against what QTS can do (issue 15, docs/qts.md): every refusal at its
line, in plain words, before anything reaches the NAS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nasops.cli.main import main
from nasops.spec import load_spec_text
from nasops.spec.qts import qts_problems

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventory" / "example" / "wsm.yml"
QTS = ROOT / "inventory" / "qts"


def refusals(text: str) -> list[str]:
    return [problem.format() for problem in qts_problems(load_spec_text(text, "s.yml"))]


def test_the_qts_example_is_valid_for_qts_and_the_debian_example_is_told_each_reason(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--platform", "qts", str(QTS / "wsm.yml")]) == 0
    capsys.readouterr()
    assert main(["validate", "--platform", "qts", str(EXAMPLE)]) == 2
    lines = capsys.readouterr().err.splitlines()
    paths = [line.split(": ", 2)[1] for line in lines]
    # The volume, the four people with laptops, the five shares' quotas, the backups.
    assert paths == ["volume.path", "users[3].devices", "users[4].devices", "users[8].devices",
                     "users[12].devices", *(f"shares[{index}].quota" for index in range(5)),
                     "backup"], lines
    assert lines[0].startswith(f"{EXAMPLE}:12:3: volume.path: '/srv/nas' is not a QTS data "
                               "volume"), lines[0]
    assert "QTS has no quota per share" in lines[5] and "Traceback" not in "\n".join(lines)
    assert main(["validate", str(EXAMPLE)]) == 0  # on Debian, the same spec is fine


SPEC = """version: 1
organization: {{id: wsm, account_prefix: {prefix}}}
volume: {{path: /share/CACHEDEV1_DATA}}
groups:
  - {{name: Équipe, system_name: {group}}}
users:
  - {{login: {login}, name: Zoé, groups: [Équipe]}}
shares:
  - {{name: "{share}", access: {{Équipe: write}}{renamed}}}
"""


@pytest.mark.parametrize(("values", "expected"), [
    # '_' is a valid POSIX group name, not a QTS one ('.' is refused by the spec itself).
    ({"group": "equipe_sud"}, "5:6: groups[0].name: QTS group names hold only letters, "
                              "digits and '-'"),
    ({"share": "Projets+Sud"}, "9:6: shares[0].name: QTS share names cannot hold +"),
    ({"share": "L'équipe"}, "9:6: shares[0].name: QTS share names cannot hold '"),
    # QTS's own groups, accounts and shares, compared without case as QTS does.
    ({"group": "administrators"}, "5:6: groups[0].name: 'administrators' is one of QTS's own "
                                  "groups"),
    ({"login": "admin"}, "7:6: users[0].login: 'admin' is one of QTS's own accounts"),
    ({"share": "Public"}, "9:6: shares[0].name: 'Public' is a share QTS creates itself"),
    ({"share": "MULTIMEDIA"}, "9:6: shares[0].name: 'MULTIMEDIA' is a share QTS creates"),
    # The other characters QTS refuses (: / \\ * ? " < > | [ ] = ; ,) the spec refuses on
    # every platform.
    ({"share": "Projets `Sud`"}, "9:6: shares[0].name: QTS share names cannot hold `"),
    # A rename in place from one of QTS's own shares would take it over.
    ({"renamed": ", renamed_from: Web"}, "9:48: shares[0].renamed_from: 'Web' is a share QTS "
                                         "creates itself: nasops never renames it"),
    ({"renamed": ", renamed_from: Old+One"}, "9:48: shares[0].renamed_from: QTS share names "
                                             "cannot hold +"),
])
def test_names_qts_rejects_are_refused_at_their_line(values: dict[str, str],
                                                     expected: str) -> None:
    text = SPEC.format(**{"prefix": "''", "group": "equipe", "login": "zoe",
                          "share": "Projets", "renamed": "", **values})
    assert refusals(SPEC.format(prefix="''", group="equipe-sud", login="zoe",
                                share="Projets (2026) & co",
                                renamed=", renamed_from: Projets 2025")) == []
    found = refusals(text)
    assert len(found) == 1 and found[0].startswith(f"s.yml:{expected}"), found


@pytest.fixture
def qts_inventory(tmp_path: Path) -> Path:
    for name in ("inventory.yml", "wsm.yml"):
        shutil.copy(QTS / name, tmp_path / name)
    return tmp_path / "inventory.yml"


def test_a_qts_host_is_checked_then_never_forgotten_nor_reached_without_its_pin(
        qts_inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-i", str(qts_inventory)]) == 0
    assert "checked against what QTS can do" in capsys.readouterr().out
    assert main(["forget", "wsm/Afrique", "-i", str(qts_inventory)]) == 2
    error = capsys.readouterr().err
    assert "this command is not built for QTS" in error and "nothing was run" in error, error
    # plan, drift and apply reach the NAS: the example inventory names no certificate pin
    # yet, so they stop before connecting (before any secret is read), saying how to get it.
    for command in (["plan"], ["drift"], ["apply"]):
        assert main([*command, "-i", str(qts_inventory)]) == 2, command
        error = capsys.readouterr().err
        assert "nasops_qts_certificate_sha256 must be the sha256" in error, error
    assert not (qts_inventory.parent / "secrets.yml").exists()
    # A spec QTS cannot take: its problems first, located, and still nothing runs.
    spec = qts_inventory.parent / "wsm.yml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "path: /share/CACHEDEV1_DATA", "path: /srv/nas"), encoding="utf-8")
    assert main(["plan", "-i", str(qts_inventory)]) == 2
    error = capsys.readouterr().err
    assert f"{spec}:" in error and "is not a QTS data volume" in error
    assert "not built" not in error and "certificate" not in error


@pytest.mark.parametrize(("change", "expected"), [
    (("nasops_platform: qts", "nasops_platform: synology"),
     "nasops_platform must be one of debian, qts, got 'synology'"),
    (("nasops_spec: wsm.yml", "nasops_specs: [wsm.yml]\n          nasops_hosting: h.yml"),
     "a NAS several organisations share is not built on QTS"),
    # How nasops reaches the NAS is checked offline too, each value written.
    (("nasops_spec: wsm.yml", "nasops_spec: wsm.yml\n          nasops_qts_ssh_host_key: "
      "'ssh-ed25519 AAAA\n127.0.0.1 ssh-rsa x'"),
     "inventory host wsm-qnap: nasops_qts_ssh_host_key must be the NAS's SSH host key"),
    (("nasops_spec: wsm.yml", "nasops_spec: wsm.yml\n          nasops_qts_certificate_sha256: "
      "abc"), "nasops_qts_certificate_sha256 must be the sha256"),
    (("nasops_spec: wsm.yml", "nasops_spec: wsm.yml\n          nasops_qts_port: 70000"),
     "nasops_qts_port must be a port number"),
])
def test_an_unknown_platform_or_a_shared_qts_nas_is_refused(
        qts_inventory: Path, capsys: pytest.CaptureFixture[str],
        change: tuple[str, str], expected: str) -> None:
    text = qts_inventory.read_text(encoding="utf-8")
    qts_inventory.write_text(text.replace(*change), encoding="utf-8")
    (qts_inventory.parent / "h.yml").write_text("version: 1\nid: commun\n", encoding="utf-8")
    assert main(["validate", "-i", str(qts_inventory)]) == 2
    error = capsys.readouterr().err
    assert expected in error and "Traceback" not in error, error


@pytest.mark.parametrize(("volume", "extra", "expected"), [
    ("/share/CACHEDEV01_DATA", "", "volume.path: '/share/CACHEDEV01_DATA' is not a QTS data"),
    ("/share/CACHEDEV1_DATA/", "", "without a trailing '/'"),
    ("/share/CACHEDEV1_DATA", "sync:\n  relays: true\n",
     "sync: the `sync` section sets the NAS's Syncthing, which QTS does not run"),
])
def test_volumes_qts_does_not_use_and_syncthing_settings_are_refused(
        volume: str, extra: str, expected: str) -> None:
    text = SPEC.format(prefix="''", group="equipe", login="zoe", share="Projets", renamed="")
    found = refusals(text.replace("/share/CACHEDEV1_DATA", volume) + extra)
    assert len(found) == 1 and expected in found[0], found
    assert refusals(text.replace("CACHEDEV1", "ZFS530")) == []  # QuTS hero


def test_monitoring_targets_leave_a_qts_host_out_and_say_why(
        qts_inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitoring", "targets", "-i", str(qts_inventory)]) == 0
    said = capsys.readouterr()
    assert "wsm-qnap" not in said.out and "9750" not in said.out, said.out
    assert "wsm-qnap: left out: a QNAP is read by an exporter on another machine" \
        in said.err, said.err

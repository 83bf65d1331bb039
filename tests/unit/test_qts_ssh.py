"""The QTS data plane's SSH settings: checked to a strict grammar before anything connects,
and an ssh command that trusts the pinned key alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasops.errors import BadInputError
from nasops.qts.connection import endpoint_of
from nasops.qts.ssh import SshEndpoint, SshShell, ssh_endpoint_of

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOb3lW2vA9dTSxWGSkYgYyqHhI0f3YkE0aWfz3N9l1Xq"
PIN = "ab" * 32


def test_no_host_key_means_the_folders_are_not_reached() -> None:
    assert ssh_endpoint_of("nas", "127.0.0.5", {}) is None
    assert endpoint_of("nas", {"ansible_host": "127.0.0.5",
                               "nasops_qts_certificate_sha256": PIN}).ssh is None


def test_a_pinned_host_key_with_its_comment_dropped_gives_the_endpoint(tmp_path: Path) -> None:
    key_file = tmp_path / "id"
    key_file.write_text("k")
    endpoint = ssh_endpoint_of("nas", "127.0.0.5", {
        "nasops_qts_ssh_host_key": KEY + "  ", "nasops_qts_ssh_user": "nasops-admin",
        "nasops_qts_ssh_port": "2222", "nasops_qts_ssh_key_file": str(key_file)})
    assert endpoint == SshEndpoint("127.0.0.5", 2222, "nasops-admin", KEY, str(key_file))
    argv = endpoint.argv(tmp_path / "known_hosts")
    assert argv[:3] == ["ssh", "-F", "/dev/null"]
    for option in ("StrictHostKeyChecking=yes", "BatchMode=yes",
                   f"UserKnownHostsFile={tmp_path / 'known_hosts'}",
                   "GlobalKnownHostsFile=/dev/null", "HostKeyAlgorithms=ssh-ed25519"):
        assert option in argv
    assert argv[-3:] == ["--", "127.0.0.5", "sh -s"]
    with SshShell(endpoint) as shell:
        assert shell.directory is not None
        known = Path(shell.directory.name) / "known_hosts"
        assert known.read_text() == f"[127.0.0.5]:2222 {KEY}\n"
    assert not known.exists()


@pytest.mark.parametrize(("variables", "words"), [
    ({"nasops_qts_ssh_host_key": "AAAA"}, "must be the NAS's SSH host key"),
    ({"nasops_qts_ssh_host_key": KEY + "\n127.0.0.1 " + KEY}, "must be the NAS's SSH host key"),
    ({"nasops_qts_ssh_host_key": "ssh-dss " + KEY.split()[1]}, "must be the NAS's SSH host key"),
    ({"nasops_qts_ssh_host_key": ["x"]}, "must be the NAS's SSH host key"),
    ({"nasops_qts_ssh_host_key": KEY, "nasops_qts_ssh_user": "-oProxyCommand=x"},
     "nasops_qts_ssh_user must be a login"),
    ({"nasops_qts_ssh_host_key": KEY, "nasops_qts_ssh_port": 0}, "must be a port number"),
    ({"nasops_qts_ssh_host_key": KEY, "nasops_qts_ssh_port": True}, "must be a port number"),
    ({"nasops_qts_ssh_host_key": KEY, "nasops_qts_ssh_key_file": "-i/etc/shadow"},
     "must name a readable key file"),
    ({"nasops_qts_ssh_host_key": KEY, "nasops_qts_ssh_key_file": "/nonexistent/key"},
     "must name a readable key file"),
])
def test_bad_ssh_settings_are_refused_naming_the_host(variables: dict[str, object],
                                                      words: str) -> None:
    with pytest.raises(BadInputError, match=words) as raised:
        ssh_endpoint_of("wsm-qnap", "127.0.0.5", variables)
    assert str(raised.value).startswith("inventory host wsm-qnap: ")

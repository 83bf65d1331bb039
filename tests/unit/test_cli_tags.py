"""`--tags` on plan, apply and drift: only the steps asked for run, the checks always."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nasops.ansible.runner import playbook_argv
from nasops.cli.main import cli
from nasops.provision.converge import SITE_TAGS

SITE = Path(__file__).resolve().parents[2] / "playbooks" / "site.yml"


def _tags_in(node: object) -> set[str]:
    if isinstance(node, dict):
        found = set(node.get("tags") or []) if isinstance(node.get("tags"), list) else set()
        return found.union(*(_tags_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_tags_in(item) for item in node))
    return set()


def test_the_accepted_tags_are_the_playbook_s() -> None:
    play_tags = _tags_in(yaml.safe_load(SITE.read_text(encoding="utf-8"))) - {"always"}
    tasks = Path(__file__).resolve().parents[2] / "roles" / "nas_shares" / "tasks" / "main.yml"
    role_tags = _tags_in(yaml.safe_load(tasks.read_text(encoding="utf-8")))
    assert set(SITE_TAGS) == play_tags | role_tags


def test_the_tags_reach_ansible_playbook(tmp_path: Path) -> None:
    argv = playbook_argv(tmp_path, "inventory.yml", tmp_path / "inventory", ["nas"],
                         check=True, tags=("nas_shares", "nas_quotas"))
    assert argv[argv.index("--tags") + 1] == "nas_shares,nas_quotas"
    assert "--tags" not in playbook_argv(tmp_path, "inventory.yml", tmp_path / "inventory",
                                         ["nas"], check=True)


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
@pytest.mark.parametrize("tag", ["nas_everything", "always", "nas_base;rm -rf /", ""])
def test_an_unknown_tag_is_refused_before_anything_runs(command: str, tag: str,
                                                        tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [command, "-i", str(tmp_path / "missing.yml"),
                                      "--tags", f"nas_base,{tag}"])
    assert result.exit_code == 2, result.output
    assert "is not a step of nasops" in result.output
    assert "Traceback" not in result.output


def test_the_roles_others_read_come_along_with_the_tags_asked_for() -> None:
    from nasops.cli.run_report import _tags  # noqa: PLC0415

    assert _tags(None, None, ("nas_exporter",)) == ("nas_exporter", "nas_base", "nas_release")  # type: ignore[arg-type]
    assert _tags(None, None, ()) == ()  # type: ignore[arg-type]

"""Apply's real pass walks again only the shares whose check found a change: the check walked
every share moments ago under the apply lock (issue 18: a one-folder change)."""

from __future__ import annotations

from typing import Any

from nasops.ansible.events import Change, HostResult, RunResult
from nasops.provision.converge import TREE_STEP, tree_shares, unchanged_sections

SECTIONS_STEP = "nas_shares: Write the Samba share sections (validated with the [global] section)"
OUTLINES: dict[str, dict[str, Any]] = {"nas": {"shares": [
    {"name": "Afrique", "path": "/srv/nas/wsm/Afrique", "renamed_from": None},
    {"name": "Afrique-Ouest", "path": "/srv/nas/wsm/Afrique-Ouest", "renamed_from": None},
    {"name": "Direction", "path": "/srv/nas/wsm/Direction", "renamed_from": None}]}}


def checked(*changes: tuple[str, str], unlisted: int = 0, kind: str = "acl") -> RunResult:
    host = HostResult("nas", [Change(kind, target, "set", step) for step, target in changes],
                      unlisted=unlisted)
    return RunResult({"nas": host}, check_mode=True, completed=True)


def test_only_the_shares_with_a_change_are_walked_again() -> None:
    result = checked((TREE_STEP, "/srv/nas/wsm/Afrique/Finances/Audit"),
                     ("nas_exporter: Install the exporter", "/etc/nasops/exporter.json"))
    # A name that starts another share's (Afrique-Ouest) is not that share.
    assert tree_shares(result, OUTLINES) == {"nas": ["/srv/nas/wsm/Afrique"]}
    assert tree_shares(checked((TREE_STEP, "/srv/nas/wsm/Direction")), OUTLINES) == {
        "nas": ["/srv/nas/wsm/Direction"]}
    # Nothing for the tree (the share sections changed): no walk at all.
    assert tree_shares(checked(("nas_shares: Write the Samba share sections",
                                "/etc/samba/nasops-shares.conf")), OUTLINES) == {"nas": []}


def test_a_stale_desired_copy_runs_the_tree_module_without_a_walk() -> None:
    # The copy's path in `only` runs the module (which writes the copy); no share has that path.
    copy = HostResult("nas", [Change("desired copy", "/etc/nasops/desired.json", "", TREE_STEP),
                              Change("acl", "/srv/nas/wsm/Direction/x", "set", TREE_STEP)])
    result = RunResult({"nas": copy}, check_mode=True, completed=True)
    assert tree_shares(result, OUTLINES) == {
        "nas": ["/etc/nasops/desired.json", "/srv/nas/wsm/Direction"]}
    alone = RunResult({"nas": HostResult("nas", copy.changes[:1])}, check_mode=True,
                      completed=True)
    assert tree_shares(alone, OUTLINES) == {"nas": ["/etc/nasops/desired.json"]}
    assert unchanged_sections(alone, tree_shares(alone, OUTLINES)) == ["nas"]


def test_places_that_left_the_spec_are_walked_again_to_be_reported() -> None:
    assert tree_shares(checked((TREE_STEP, "/srv/nas/wsm/Direction/Old"), kind="unmanaged"),
                       OUTLINES) == {"nas": ["/srv/nas/wsm/Direction"]}


def test_every_share_is_walked_when_the_check_cannot_say_where() -> None:
    # Another role's change (a new group, a new share directory) may change what a walk finds.
    assert tree_shares(checked((TREE_STEP, "/srv/nas/wsm/Afrique/x"),
                               ("nas_accounts: Converge", "cleroy")), OUTLINES) is None
    assert tree_shares(checked(("nas_quotas: Rename", "/srv/nas/wsm/Afrique")), OUTLINES) is None
    assert tree_shares(checked((TREE_STEP, "/srv/nas/wsm/Afrique/x"), unlisted=2),
                       OUTLINES) is None  # changes counted but not listed
    assert tree_shares(checked((TREE_STEP, "/elsewhere/x")), OUTLINES) is None
    renamed = {"nas": {"shares": [{"path": "/srv/nas/wsm/Africa",
                                   "renamed_from": "/srv/nas/wsm/Afrique"}]}}
    assert tree_shares(checked((TREE_STEP, "/srv/nas/wsm/Africa/x")), renamed) is None


def test_the_tree_step_is_the_name_of_nas_shares_tree_task() -> None:
    # The narrowing tells the tree's changes by their step: it must name the real task.
    from pathlib import Path  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    tasks = yaml.safe_load((Path(__file__).resolve().parents[2] / "roles" / "nas_shares"
                            / "tasks" / "main.yml").read_text(encoding="utf-8"))
    [tree] = [task for task in tasks if "nasops.nas.tree" in task]
    assert f"nas_shares: {tree['name']}" == TREE_STEP


def test_the_share_sections_are_left_alone_only_when_the_check_saw_them_unchanged() -> None:
    from nasops.provision.converge import unchanged_sections  # noqa: PLC0415

    tree_only = checked((TREE_STEP, "/srv/nas/wsm/Afrique/Finances"))
    assert unchanged_sections(tree_only, tree_shares(tree_only, OUTLINES)) == ["nas"]
    sections = checked((TREE_STEP, "/srv/nas/wsm/Afrique/x"),
                       (SECTIONS_STEP, "/etc/samba/nasops-shares.conf"))
    assert unchanged_sections(sections, tree_shares(sections, OUTLINES)) == []
    # Another step of nas_shares (one added later, say) is not the tree's: written again.
    other = checked((TREE_STEP, "/srv/nas/wsm/Afrique/x"), ("nas_shares: Something new", "y"))
    assert unchanged_sections(other, tree_shares(other, OUTLINES)) == []
    # Not narrowed (another role changed something): the real pass writes them as always.
    accounts = checked((TREE_STEP, "/srv/nas/wsm/Afrique/x"), ("nas_accounts: Converge", "x"))
    assert unchanged_sections(accounts, tree_shares(accounts, OUTLINES)) == []


def test_the_sections_step_is_the_name_of_nas_shares_sections_task() -> None:
    from pathlib import Path  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    tasks = yaml.safe_load((Path(__file__).resolve().parents[2] / "roles" / "nas_shares"
                            / "tasks" / "main.yml").read_text(encoding="utf-8"))
    [sections] = [task for task in tasks if "nasops-shares.conf.j2" in str(task)]
    assert f"nas_shares: {sections['name']}" == SECTIONS_STEP
    assert sections["when"] == "nas_shares_write_sections"

"""`nasops access-diff` (issue 16): exactly the (person, folder, before, after) that change,
checked against a brute-force comparison of the two specs' access reports (parsed back
from their JSON), for the changes a board approves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from nasops.cli.main import main
from nasops.report.access import render
from nasops.report.access_diff import access_diff, render_text
from nasops.spec import load_spec_text
from nasops.spec.models import Spec
from nasops.spec.rights import resolve_rights

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "example" / "wsm.yml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
FINANCES = "access: {Administration & finances: write, Direction: read, pvandamme: read}"
MISSIONS = "      - name: Rapports de mission\n        access: {Sensibilisation: read, " \
           "Sensibilisatie: read}\n"
# Each case: the edit of the example, and the renames a brute force must follow.
CASES = {
    "a user added to a group": (
        ("{login: lmaes, name: Lies Maes, groups: [Cellule Asie]}",
         "{login: lmaes, name: Lies Maes, groups: [Cellule Asie, Cellule Afrique]}"), {}),
    "a folder made private": (
        (MISSIONS, MISSIONS.replace("        access:", "        inherit: false\n"
                                                      "        access:", 1)), {}),
    "a user exception": ((FINANCES, FINANCES.replace("}", ", smertens: none}")), {}),
    "a folder renamed with renamed_from": (
        (MISSIONS, MISSIONS.replace("Rapports de mission", "Missions\n"
                                    "        renamed_from: Rapports de mission", 1)),
        {"Afrique/Missions": "Afrique/Rapports de mission"}),
    "a share renamed with renamed_from": (
        ("  - name: Afrique\n", "  - name: Afrika\n    renamed_from: Afrique\n"),
        {"Afrika": "Afrique"}),
    "a person who left": (("  - {login: rsingh, name: Ravi Singh, groups: [Partenaires Asie]}\n",
                           ""), {}),
    "a folder that left": ((MISSIONS, ""), {}),
}


def _spec(text: str) -> Spec:
    return load_spec_text(text, "s.yml").spec


def _report(spec: Spec) -> dict[tuple[str, str], str]:
    document = json.loads(render(spec, resolve_rights(spec), "json"))
    return {(user["login"], folder): access for user in document["users"]
            for folder, access in zip(document["folders"], user["access"], strict=True)}


def _brute_force(before: Spec, after: Spec, renames: dict[str, str]
                 ) -> set[tuple[str, str, str, str]]:
    old, new = _report(before), _report(after)
    logins = {login for login, _ in old} | {login for login, _ in new}
    new_folders = {folder for _, folder in new}

    def old_name(folder: str) -> str:
        for renamed, was in renamed_items:
            if folder == renamed or folder.startswith(renamed + "/"):
                return was + folder[len(renamed):]
        return folder

    renamed_items = sorted(renames.items(), key=lambda item: -len(item[0]))
    found = set()
    for login in logins:
        for folder in new_folders:
            before_access = old.get((login, old_name(folder)), "none")
            after_access = new.get((login, folder), "none")
            if before_access != after_access:
                found.add((login, folder, before_access, after_access))
    return found


@pytest.mark.parametrize("case", CASES)
def test_access_diff_lists_exactly_what_the_two_access_reports_differ_in(case: str) -> None:
    (old_text, new_text), renames = CASES[case]
    assert old_text in TEXT, case
    before, after = _spec(TEXT), _spec(TEXT.replace(old_text, new_text, 1))
    diff = access_diff(before, after)
    found = {(change.login, change.folder, change.before.value, change.after.value)
             for change in diff.changes}
    assert found == _brute_force(before, after, renames)
    if "renamed" in case:
        assert found == set()
        assert diff.renamed == [(was, renamed) for renamed, was in renames.items()]
    else:
        assert found, "each other case changes someone's access"
    if case == "a folder that left":
        assert diff.left_the_spec == ["Afrique/Rapports de mission"]


def test_access_diff_says_it_in_plain_words_by_person_and_by_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(TEXT, encoding="utf-8")
    new.write_text(TEXT.replace(*CASES["a user added to a group"][0]).replace(
        *CASES["a user exception"][0]), encoding="utf-8")
    assert main(["access-diff", str(old), str(new), "--lang", "en"]) == 0
    assert capsys.readouterr().out == (
        "Lies Maes (lmaes):\n"
        "  can now change Afrique\n"
        "  can now change Afrique/Partenaires and every folder in it\n"
        "  can now change Afrique/Rapports de mission\n"
        "Sofie Mertens (smertens):\n"
        "  can no longer reach Afrique/Finances\n")
    assert main(["access-diff", str(old), str(new), "--by", "folder", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Afrique/Finances:\n  People who can no longer reach it (1): Sofie Mertens " \
        "(smertens)\n" in out
    # The organisation's language (the example says fr), or another asked for.
    assert main(["access-diff", str(old), str(new)]) == 0
    assert "Sofie Mertens (smertens):\n  n\u2019a plus accès à Afrique/Finances\n" in \
        capsys.readouterr().out
    assert main(["access-diff", str(old), str(new), "--lang", "nl"]) == 0
    out = capsys.readouterr().out
    assert "  kan Afrique/Partenaires en alle mappen erin nu wijzigen\n" in out
    assert "  kan niet meer bij Afrique/Finances\n" in out
    assert main(["access-diff", str(old), str(new), "--format", "json", "--lang", "en"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {"login": "smertens", "name": "Sofie Mertens", "folder": "Afrique/Finances",
            "before": "write", "after": "none",
            "sentence": "can no longer reach Afrique/Finances"} in document["changes"]


def test_access_diff_since_a_git_revision(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "wsm.yml"
    spec.write_text(TEXT, encoding="utf-8")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "wsm.yml"], check=True)
    subprocess.run([*git, "commit", "-qm", "spec"], check=True)
    assert main(["access-diff", str(spec), "--since", "HEAD", "--lang", "en"]) == 0
    assert capsys.readouterr().out == "nobody gains or loses access\n"
    spec.write_text(TEXT.replace(*CASES["a user exception"][0]), encoding="utf-8")
    assert main(["access-diff", str(spec), "--since", "HEAD", "--lang", "en"]) == 0
    assert "Sofie Mertens (smertens):\n  can no longer reach Afrique/Finances" in \
        capsys.readouterr().out
    for revision, message in (("--upload-pack=x", "not a git revision"),
                              ("HEAD~5", "no version at HEAD~5")):
        assert main(["access-diff", str(spec), "--since", revision]) == 2
        assert message in capsys.readouterr().err


def test_access_diff_refuses_two_organisations_or_a_missing_argument(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(TEXT, encoding="utf-8")
    new.write_text(TEXT.replace("  id: wsm\n", "  id: autre\n", 1), encoding="utf-8")
    assert main(["access-diff", str(old), str(new)]) == 2
    assert "different organisations" in capsys.readouterr().err
    assert main(["access-diff", str(old)]) == 2
    assert "give two specs" in capsys.readouterr().err


def test_every_kind_of_change_is_said_in_every_language() -> None:
    from nasops.report.access_words import WORDS, kind  # noqa: PLC0415
    from nasops.spec.rights import Access  # noqa: PLC0415

    keys = set(WORDS["en"])
    assert all(set(words) == keys for words in WORDS.values())
    kinds = {kind(before, after) for before in Access for after in Access if before != after}
    assert kinds == {"change", "only_read", "read", "only_pass", "pass", "no_pass",
                     "no_reach"}
    assert all(f"people_{name}" in keys for name in kinds)


def test_a_spec_that_still_carries_renamed_from_is_no_change() -> None:
    renamed = TEXT.replace("  - name: Afrique\n",
                           "  - name: Afrika\n    renamed_from: Afrique\n", 1).replace(
        *CASES["a folder renamed with renamed_from"][0])
    diff = access_diff(_spec(renamed), _spec(renamed))
    assert (diff.changes, diff.renamed, diff.left_the_spec, diff.shares_left) == (
        [], [], [], [])
    # From before the renames to after: the same folders, renamed.
    diff = access_diff(_spec(TEXT), _spec(renamed))
    assert diff.changes == [] and diff.left_the_spec == [] and diff.shares_left == []
    assert ("Afrique/Rapports de mission", "Afrika/Missions") in diff.renamed


def test_a_share_that_left_is_lost_by_everyone_who_reached_it() -> None:
    start = TEXT.index("  - name: Direction\n", TEXT.index("\nshares:"))
    end = TEXT.index("\nbackup:", start) + 1  # Direction is the example's last share
    before, after = _spec(TEXT), _spec(TEXT[:start] + TEXT[end:])
    diff = access_diff(before, after)
    assert diff.shares_left == ["Direction"]
    report = _report(before)
    expected = {(login, folder, access, "none") for (login, folder), access in report.items()
                if folder.split("/")[0] == "Direction" and access != "none"}
    found = {(c.login, c.folder, c.before.value, c.after.value) for c in diff.changes}
    assert found == expected and expected
    assert "share left the spec: no longer offered over the network" in render_text(diff)


def test_a_folder_and_all_below_is_not_said_over_a_folder_that_left() -> None:
    # Bénin leaves (it keeps its ACLs on the NAS), Partenaires becomes read-only for its
    # partners: their change on Partenaires must not claim "every folder in it".
    text = TEXT.replace("          - {name: Bénin}\n", "", 1).replace(
        "        access: {Partenaires Afrique: write}",
        "        access: {Partenaires Afrique: read}", 1)
    diff = access_diff(_spec(TEXT), _spec(text))
    assert diff.left_the_spec == ["Afrique/Partenaires/Bénin"]
    out = render_text(diff)
    assert "can now only read Afrique/Partenaires (no longer change it)\n" in out
    assert "Afrique/Partenaires and every folder in it" not in out

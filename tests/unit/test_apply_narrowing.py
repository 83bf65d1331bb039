"""Apply's real pass runs only the roles whose check found work (and what later roles read)."""

from __future__ import annotations

from nasops.ansible.events import Change, HostResult, RunResult
from nasops.provision.converge import ALWAYS_RUN, ROLES, roles_to_run


def checked(*steps: str, unlisted: int = 0, kind: str = "acl") -> RunResult:
    host = HostResult("nas", [Change(kind, f"/srv/nas/x{index}", "set", step)
                              for index, step in enumerate(steps)], unlisted=unlisted)
    return RunResult({"nas": host}, check_mode=True, completed=True)


def test_a_folder_change_runs_the_shares_role_and_what_it_reads() -> None:
    assert roles_to_run(checked("nas_shares: Converge the folder tree and ACLs of every share")
                        ) == ("nas_base", "nas_release", "nas_shares", "nas_backup")


def test_roles_keep_the_play_s_order_and_always_include_the_base() -> None:
    assert roles_to_run(checked("nas_backup: Install", "nas_accounts: Converge")) == (
        "nas_base", "nas_release", "nas_accounts", "nas_backup")
    assert roles_to_run(checked()) == ALWAYS_RUN


def test_a_new_release_or_an_unattributed_change_runs_everything() -> None:
    assert roles_to_run(checked("nas_release: Switch to the new release")) is None
    assert roles_to_run(checked("A task outside any role")) is None
    assert roles_to_run(checked("someone_elses_role: Do")) is None
    # Changes a module counted without listing them: which role is not known.
    assert roles_to_run(checked("nas_shares: Converge", unlisted=3)) is None


def test_places_that_left_the_spec_are_reported_by_their_role_again() -> None:
    assert roles_to_run(checked("nas_quotas: Rename", kind="unmanaged")) == (
        "nas_base", "nas_release", "nas_quotas", "nas_backup")


def test_every_role_is_a_tag_of_the_playbook() -> None:
    assert set(ALWAYS_RUN) <= set(ROLES)

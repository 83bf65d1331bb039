"""After apply, every user of the example spec can do over SMB exactly what the report says.

For every (user, folder) pair: list, read a file already there, create and delete a file,
logged in over SMB as that user; the observed level must equal the rights table that the
access report prints. Also: access-based enumeration hides what a user cannot reach, in
each folder and in the list of shares.
"""

from __future__ import annotations

from typing import Any

from smb_probe import SmbUser, access_mismatches, listed_shares

from nasops.spec.rights import Access


def test_every_user_and_folder_behaves_as_the_access_report_says(example_nas: Any) -> None:
    mismatches, observed_levels = access_mismatches(
        example_nas.rights, example_nas.host.address, example_nas.passwords)
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:40])
    # The example must exercise every level, or this comparison proves little.
    assert all(observed_levels[level] >= 5 for level in Access), observed_levels


def test_access_based_enumeration_hides_unreachable_folders(example_nas: Any) -> None:
    table = example_nas.rights
    checked = 0
    problems: list[str] = []
    for login in sorted(table.access):
        levels = table.access[login]
        user = SmbUser(example_nas.host.address, login, example_nas.passwords[login])
        try:
            for folder in table.folders:
                if folder.parent is None or levels[folder.parent] is Access.NONE:
                    continue
                parent = table.folders[folder.parent]
                names = user.listdir(parent.path[0], "/".join(parent.path[1:])) or []
                visible = folder.path[-1] in names
                should_see = levels[folder.index] is not Access.NONE
                checked += 1
                if visible != should_see:
                    problems.append(f"{login}: {folder.display_path} visible={visible}, "
                                    f"expected {should_see}")
        finally:
            user.close()
    assert checked > 100, "too few pairs checked: the fixture spec lost its depth"
    assert not problems, "\n".join(problems[:40])


def test_a_disabled_user_cannot_log_in(example_nas: Any) -> None:
    disabled = [login for login, user in example_nas.rights.directory.users.items()
                if not user.enabled]
    assert disabled, "the example spec should keep a disabled user"
    for login in disabled:
        user = SmbUser(example_nas.host.address, login, example_nas.passwords[login])
        try:
            assert user.listdir(example_nas.rights.folders[0].path[0], "") is None
        finally:
            user.close()


def test_each_person_s_share_list_shows_only_the_shares_they_reach(example_nas: Any) -> None:
    # What people see in Windows' network view (net view \\nas): Samba's access-based share
    # enumeration, asked as each person with smbclient -L (the srvsvc share list).
    table = example_nas.rights
    roots = {folder.path[0]: folder.index for folder in table.folders if folder.parent is None}
    problems: list[str] = []
    hidden = 0
    for login in sorted(table.access):
        if not table.directory.users[login].enabled:
            continue
        seen = listed_shares(example_nas.host.address, login, example_nas.passwords[login])
        reachable = {share for share, index in roots.items()
                     if table.access[login][index] is not Access.NONE}
        hidden += len(roots) - len(reachable)
        if seen != reachable:
            problems.append(f"{login} sees {sorted(seen)}, reaches {sorted(reachable)}")
    assert hidden > 20, "the example should keep shares out of most people's reach"
    assert not problems, "\n".join(problems[:20])

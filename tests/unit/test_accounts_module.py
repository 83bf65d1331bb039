"""The pure logic of the nasops.nas.accounts module: MD4/NT hashes, parsers and the plan."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.nasops.nas.plugins.modules import accounts

TODAY = 20000  # days since 1970-01-01 (2024-10-04)

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
sshd:x:101:65534::/run/sshd:/usr/sbin/nologin
adiallo:x:1001:1000:Aminata Diallo:/nonexistent:/usr/sbin/nologin
pvandamme:x:1002:1000:Pieter Van Damme:/nonexistent:/bin/bash
gone:x:1003:1000:Left Last Year:/nonexistent:/usr/sbin/nologin
ojanssens:x:1004:1000:Olivier Janssens:/nonexistent:/usr/sbin/nologin
localadmin:x:1005:1005:Local admin:/home/localadmin:/bin/bash
"""
GROUP = """\
root:x:0:
sudo:x:27:localadmin
wsm-users:x:1000:
cellule-afrique:x:1001:adiallo,pvandamme,ojanssens
direction:x:1002:pvandamme
localadmin:x:1005:
"""
SHADOW = """\
root:*:19000:0:99999:7:::
adiallo:!:19000:0:99999:7:::
pvandamme:!:19000:0:99999:7::20100:
gone:!:19000:0:99999:7:::
ojanssens:!:19000:0:99999:7::1:
localadmin:$y$hash:19000:0:99999:7:::
"""
LM = "X" * 32  # Samba stores no LM hash
PDBEDIT = "".join(f"{login}:{uid}:{LM}:{stored}:{flags}:LCT-65A1B2C3:\n"
                  for login, uid, stored, flags in (
    ("adiallo", 1001, "8846F7EAEE8FB117AD06BDD830B7586C", "[U          ]"),
    ("gone", 1003, "8846F7EAEE8FB117AD06BDD830B7586C", "[U          ]"),
    ("pvandamme", 1002, "NO PASSWORDXXXXXXXXXXXXXXXXXXXXX", "[DU         ]"),
))


def _current(passwd: str = PASSWD, group: str = GROUP, shadow: str = SHADOW,
             pdbedit: str = PDBEDIT) -> Any:
    return accounts.Current(accounts.parse_passwd(passwd), accounts.parse_group(group),
                            accounts.parse_shadow(shadow), accounts.parse_pdbedit(pdbedit))


def _desired(**overrides: Any) -> dict[str, Any]:
    desired = {
        "users_group": "wsm-users",
        "groups": [{"name": "cellule-afrique"}, {"name": "direction"}],
        "users": [
            {"login": "adiallo", "full_name": "Aminata Diallo", "enabled": True,
             "groups": ["cellule-afrique"]},
            {"login": "pvandamme", "full_name": "Pieter Van Damme", "enabled": True,
             "groups": ["cellule-afrique"]},
            {"login": "ojanssens", "full_name": "Olivier Janssens", "enabled": False,
             "groups": ["cellule-afrique"]},
        ],
        "passwords": {"adiallo": "password", "pvandamme": "s3cret"},
        "shell": "/usr/sbin/nologin",
        "home": "/nonexistent",
        "samba": True,
        "min_uid": 1000,
    }
    desired.update(overrides)
    # As the module's argument check leaves them: each user with their primary group.
    desired["users"] = [{"users_group": desired["users_group"], **user}
                        for user in desired["users"]]
    return desired


def _plan(desired: dict[str, Any], current: Any = None) -> list[Any]:
    return accounts.Planner(desired, current or _current(), TODAY).plan()


def _changes(actions: list[Any]) -> list[tuple[str, str, str]]:
    return [(action.kind, action.target, action.detail) for action in actions]


# --- MD4 and NT hashes ---------------------------------------------------------------------


@pytest.mark.parametrize(("message", "digest"), [
    # RFC 1320, appendix A.5
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "043f8582f241db351ce627e153e7f0e4"),
    (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
])
def test_md4_matches_rfc_1320(message: bytes, digest: str) -> None:
    assert accounts.md4(message).hex() == digest


def test_md4_handles_the_padding_edge_at_55_and_56_bytes() -> None:
    # 55 bytes fit one block with the length; 56 need a second block: both must differ and
    # be stable (a wrong padding count shifts the length and changes the digest).
    assert accounts.md4(b"x" * 55) != accounts.md4(b"x" * 56)
    assert len(accounts.md4(b"x" * 64)) == 16


def test_nt_hash_is_md4_of_utf16le_in_samba_case() -> None:
    assert accounts.nt_hash("password") == "8846F7EAEE8FB117AD06BDD830B7586C"
    assert accounts.nt_hash("") == "31D6CFE0D16AE931B73C59D7E0C089C0"
    # Non-ASCII passwords are hashed from UTF-16LE, not UTF-8.
    assert accounts.nt_hash("é") == accounts.md4("é".encode("utf-16-le")).hex().upper()


# --- Parsers -------------------------------------------------------------------------------


def test_parsers_read_accounts_groups_shadow_and_passdb() -> None:
    current = _current()
    assert current.accounts["adiallo"] == accounts.Account(1001, 1000, "Aminata Diallo",
                                                           "/usr/sbin/nologin")
    assert current.groups["cellule-afrique"].members == {"adiallo", "pvandamme", "ojanssens"}
    assert current.groups["wsm-users"].members == frozenset()
    assert current.shadows["ojanssens"] == accounts.Shadow(True, 1)
    assert current.shadows["localadmin"] == accounts.Shadow(False, None)
    assert current.samba["adiallo"] == accounts.SambaAccount(
        "8846F7EAEE8FB117AD06BDD830B7586C", False)
    assert current.samba["pvandamme"] == accounts.SambaAccount(None, True)


# --- Planning ------------------------------------------------------------------------------


def test_fresh_host_creates_everything_in_order() -> None:
    empty = _current(passwd="root:x:0:0:root:/root:/bin/bash\n", group="root:x:0:\n",
                     shadow="", pdbedit="")
    actions = _plan(_desired(), empty)
    assert _changes(actions) == [
        ("group", "wsm-users", "create"),
        ("group", "cellule-afrique", "create"),
        ("group", "direction", "create"),
        ("user", "adiallo", "create (groups: cellule-afrique)"),
        ("user", "pvandamme", "create (groups: cellule-afrique)"),
        ("user", "ojanssens", "create disabled (groups: cellule-afrique)"),
        ("password", "adiallo", "set"),
        ("password", "pvandamme", "set"),
    ]
    useradd = actions[3].argv
    assert useradd[0] == "useradd" and useradd[-1] == "adiallo"
    assert "--no-create-home" in useradd
    assert useradd[useradd.index("--gid") + 1] == "wsm-users"
    assert useradd[useradd.index("--shell") + 1] == "/usr/sbin/nologin"
    assert "--expiredate" in actions[5].argv


def test_passwords_go_to_stdin_never_to_argv() -> None:
    empty = _current(passwd="", group="", shadow="", pdbedit="")
    for action in _plan(_desired(), empty):
        for password in ("password", "s3cret"):
            assert password not in action.argv
            assert password not in action.detail
    setting = [action for action in _plan(_desired(), empty) if action.kind == "password"]
    assert setting[0].argv == ("smbpasswd", "-s", "-a", "adiallo")
    assert setting[0].stdin == "password\npassword\n"


def test_existing_host_plans_only_the_differences() -> None:
    changes = _changes(_plan(_desired()))
    assert changes == [
        ("user", "pvandamme", "update shell /bin/bash -> /usr/sbin/nologin"),
        ("membership", "pvandamme", "remove from direction"),
        ("user", "pvandamme", "enable"),
        ("user", "gone", "disable (not in the spec any more; account and data kept)"),
        # adiallo's stored hash is the NT hash of "password": nothing to do for her.
        ("password", "pvandamme", "change"),
        ("user", "pvandamme", "enable Samba account"),
        ("user", "gone", "disable Samba account"),
    ]


def test_converged_host_plans_nothing() -> None:
    converged = _current(
        passwd=PASSWD.replace("/bin/bash", "/usr/sbin/nologin"),
        group=GROUP.replace("direction:x:1002:pvandamme", "direction:x:1002:"),
        shadow=SHADOW.replace("7::20100:", "7:::").replace("gone:!:19000:0:99999:7:::",
                                                            "gone:!:19000:0:99999:7::1:"),
        pdbedit=PDBEDIT.replace("NO PASSWORDXXXXXXXXXXXXXXXXXXXXX", accounts.nt_hash("s3cret"))
        .replace("[DU         ]", "[U          ]")
        .replace(f"gone:1003:{LM}:8846F7EAEE8FB117AD06BDD830B7586C:[U  ",
                 f"gone:1003:{LM}:8846F7EAEE8FB117AD06BDD830B7586C:[DU "),
    )
    converged.accounts["localadmin"] = accounts.Account(1005, 1005, "Local admin", "/bin/bash")
    assert _changes(_plan(_desired(), converged)) == []


def test_memberships_are_added_and_removed_only_in_spec_groups() -> None:
    desired = _desired()
    desired["users"][0]["groups"] = ["cellule-afrique", "direction"]
    desired["users"][1]["groups"] = []
    changes = [change for change in _changes(_plan(desired)) if change[0] == "membership"]
    assert changes == [
        ("membership", "adiallo", "add to direction"),
        ("membership", "pvandamme", "remove from cellule-afrique"),
        ("membership", "pvandamme", "remove from direction"),
    ]


def test_on_a_shared_nas_each_person_gets_their_organisations_users_group() -> None:
    """Two organisations: two users groups, each created first, each person's primary group
    their own organisation's, and a member of either gone from the specs disabled."""
    desired = _desired(users=[
        {"login": "adiallo", "full_name": "Aminata Diallo", "enabled": True,
         "groups": ["cellule-afrique"]},
        {"login": "rel-marie", "full_name": "Marie Relais", "enabled": True, "groups": [],
         "users_group": "rel-relais-users"}],
        passwords={"adiallo": "password", "rel-marie": "marie-secret"})
    changes = _changes(_plan(desired, _current(passwd="", group="", shadow="", pdbedit="")))
    assert changes[:2] == [("group", "wsm-users", "create"),
                           ("group", "rel-relais-users", "create")]
    argv = {action.target: action.argv for action in _plan(
        desired, _current(passwd="", group="", shadow="", pdbedit="")) if action.kind == "user"}
    assert argv["rel-marie"][argv["rel-marie"].index("--gid") + 1] == "rel-relais-users"
    assert argv["adiallo"][argv["adiallo"].index("--gid") + 1] == "wsm-users"
    # `gone` is in wsm-users and in no spec: disabled, whichever organisation it was of.
    assert ("user", "gone", "disable (not in the spec any more; account and data kept)") in \
        _changes(_plan(desired))


def test_accounts_outside_the_users_group_are_never_touched() -> None:
    targets = {target for _kind, target, _detail in _changes(_plan(_desired()))}
    assert "localadmin" not in targets and "root" not in targets and "sshd" not in targets


def test_a_login_that_is_a_system_account_is_refused() -> None:
    desired = _desired(users=[{"login": "sshd", "enabled": True, "groups": []}],
                       passwords={"sshd": "x"})
    with pytest.raises(accounts.Refusal, match=r"^refused: user 'sshd' is a system user"):
        _plan(desired)


def test_a_group_that_is_a_system_group_is_refused() -> None:
    with pytest.raises(accounts.Refusal, match=r"^refused: group 'sudo'"):
        _plan(_desired(groups=[{"name": "sudo"}]))


def test_an_enabled_user_without_password_is_refused_with_the_key_to_add() -> None:
    with pytest.raises(accounts.Refusal, match=r"nasops_user_passwords\.pvandamme"):
        _plan(_desired(passwords={"adiallo": "password"}))


def test_disabled_users_need_no_password_and_samba_off_skips_passdb() -> None:
    changes = _changes(_plan(_desired(samba=False, passwords={})))
    assert all(kind != "password" for kind, _target, _detail in changes)


def test_gecos_drops_separators() -> None:
    assert accounts._gecos("Doe, John: ext\n12") == "Doe John ext 12"


def test_the_members_of_a_users_group_nasops_managed_before_are_disabled_not_deleted() -> None:
    # The organisation's account prefix changed: wsm-users is now sm-users. The accounts of
    # the former group would otherwise stay enabled, with their Samba passwords.
    group = GROUP + "old-users:x:1006:formerly\n"
    passwd = PASSWD + "formerly:x:1006:1006:Old Account:/nonexistent:/usr/sbin/nologin\n"
    pdbedit = PDBEDIT + f"formerly:1006:{LM}:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:" \
        "LCT-65A1B2C3:\n"
    current = _current(passwd=passwd, group=group, pdbedit=pdbedit)
    actions = _plan(_desired(former_users_groups=["old-users"]), current)
    assert [(action.detail, action.argv) for action in actions
            if action.target == "formerly"] == [
        ("disable (of old-users, a users group no longer on this NAS; account and data kept)",
         ("usermod", "--lock", "--expiredate", "1970-01-02", "formerly")),
        ("disable Samba account", ("smbpasswd", "-d", "formerly"))]
    # Without the record, the former group's members are not this module's to touch.
    assert all(target != "formerly" for _kind, target, _detail in _changes(_plan(
        _desired(), current)))


def test_an_account_of_an_organisation_that_left_is_not_taken_over() -> None:
    """A new organisation with a former one's account prefix names `formerly` again: the
    account would keep that organisation's groups, password and files. Refused, in check
    mode too, before anything runs."""
    group = GROUP + "old-users:x:1006:formerly\n"
    passwd = PASSWD + "formerly:x:1006:1006:Old Account:/nonexistent:/usr/sbin/nologin\n"
    current = _current(passwd=passwd, group=group)
    desired = _desired(former_users_groups=["old-users"], users=[
        {"login": "formerly", "full_name": "New Person", "enabled": True, "groups": []}],
        passwords={"formerly": "new-secret"})
    with pytest.raises(accounts.Refusal, match="refused: account 'formerly' belongs to "
                                               "old-users, the users group of an organisation"):
        _plan(desired, current)
    # Moved by hand into the new users group (the same people under a new organisation id):
    # converged as any account.
    moved = _current(passwd=passwd.replace(":1006:1006:", ":1006:1000:"), group=group)
    assert ("user", "formerly", "update full name -> New Person") in _changes(
        _plan(desired, moved))


def test_the_record_of_users_groups_is_written_atomically_and_read_defensively(
        tmp_path: Any) -> None:
    from ansible_collections.nasops.nas.plugins.module_utils import users_groups  # noqa: PLC0415

    path = str(tmp_path / "nasops" / "users-groups.json")
    assert users_groups.read_users_groups(path) == []
    users_groups.write_users_groups(["wsm-users", "old-users", "wsm-users"], path)
    assert users_groups.read_users_groups(path) == ["old-users", "wsm-users"]
    for text in ("{", "[]", '{"version": 2, "users_groups": ["a"]}',
                 '{"version": 1, "users_groups": ["ok-users", "-rf", "a b", 3]}'):
        (tmp_path / "nasops" / "users-groups.json").write_text(text, encoding="utf-8")
        assert users_groups.read_users_groups(path) in ([], ["ok-users"])

"""QTS share rights compiled per person (issue 15): what QTS's Deny > RW > RO merge gives
each person equals what nasops means, because only the person's own entry exists."""

from __future__ import annotations

from pathlib import Path

from nasops.qts.share_rights import qts_effective, share_rights
from nasops.spec import load_spec, load_spec_text
from nasops.spec.rights import Access, resolve_rights

QTS_EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "qts" / "wsm.yml"


def test_every_person_gets_rw_where_they_change_something_ro_where_they_only_read() -> None:
    table = resolve_rights(load_spec(QTS_EXAMPLE).spec)
    rights = share_rights(table)
    # Brute force, folder by folder, from the access report's own grouping.
    writers: dict[str, set[str]] = {}
    readers: dict[str, set[str]] = {}
    for folder in table.folders:
        who = table.who(folder.index)
        writers.setdefault(folder.share, set()).update(who[Access.WRITE])
        readers.setdefault(folder.share, set()).update(who[Access.READ] + who[Access.TRAVERSE])
    assert set(rights) == set(writers)
    checked = 0
    for share, entries in rights.items():
        for login, user in table.directory.users.items():
            expected = None
            if user.enabled and login in writers[share]:
                expected = "RW"
            elif user.enabled and login in readers[share]:
                expected = "RO"
            assert entries.get(user.system_name) == expected, (share, login)
            checked += 1
    assert checked == len(rights) * len(table.directory.users) and "RO" in {
        right for entries in rights.values() for right in entries.values()}


SPEC = """version: 1
organization: {id: wsm}
volume: {path: /share/CACHEDEV1_DATA}
groups: [{name: Équipe}, {name: Direction}]
users:
  - {login: zoe, name: Zoé, groups: [Équipe]}
  - {login: tom, name: Tom, groups: [Équipe]}
  - {login: ana, name: Ana, groups: [Direction]}
  - {login: old, name: Ancien, groups: [Équipe], state: disabled}
shares:
  - name: Projets
    access: {Équipe: write, zoe: read}
    folders:
      - name: Finances
        inherit: false
        access: {Direction: read}
"""


def test_a_person_named_read_only_where_their_group_writes_stays_read_only() -> None:
    rights = share_rights(resolve_rights(load_spec_text(SPEC, "s.yml").spec))["Projets"]
    # zoe: read by name over her group's write; ana passes through to Finances (read there);
    # old is disabled: no entry.
    assert rights == {"ana": "RO", "tom": "RW", "zoe": "RO"}
    # Why no group entries: QTS would merge zoe's RO with Équipe's RW into RW.
    assert qts_effective("RO", ["RW"]) == "RW"
    assert qts_effective("RO", []) == "RO" and qts_effective(None, ["Deny", "RW"]) is None

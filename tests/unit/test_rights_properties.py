"""Property-based tests of rights resolution against a deliberately naive reference.

Random specs (groups, users with random memberships, random trees with access maps, private
folders and user exceptions) are resolved by `resolve_rights` and by `reference_access`
below, which walks every (user, folder) pair from the root without any sharing or caching.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasops.spec.checks import check_spec_data
from nasops.spec.directory import Principal
from nasops.spec.models import Spec
from nasops.spec.names import slugify
from nasops.spec.rights import Access, RightsTable, resolve_rights, user_levels
from nasops.spec.yaml_source import SourceMap

GROUP_NAMES = ["Team", "Finance", "Board", "Équipe terrain", "Partners"]
LOGINS = ["ana", "ben", "chloe", "dirk", "emma", "farid", "gert", "hana"]
LEVELS = ["none", "read", "write"]
RANK = {"none": 0, "read": 1, "write": 2}
MAXIMUM_DEPTH = 4
# More examples on demand, e.g. NASOPS_PROPERTY_EXAMPLES=2000 before a release.
EXAMPLES = int(os.environ.get("NASOPS_PROPERTY_EXAMPLES", "75"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

Path = tuple[str, ...]


@dataclass(frozen=True)
class Node:
    """One folder of the generated tree, flattened with the chain of nodes from its share."""

    path: Path
    chain: tuple[dict[str, Any], ...]


def spellings(name: str) -> st.SearchStrategy[str]:
    """Access keys may use any case of a name, and a group's derived system name."""
    options = [name, name.upper(), name.lower()]
    if name in GROUP_NAMES:
        options.append(slugify(name))
    return st.sampled_from(options)


@st.composite
def subsets(draw: st.DrawFn, pool: list[str], minimum: int = 0, maximum: int = 8) -> list[str]:
    """Draw a few distinct items; cheaper than unique lists, which retry on repeats."""
    count = draw(st.integers(minimum, min(maximum, len(pool))))
    return list(draw(st.permutations(pool))[:count])


@st.composite
def access_maps(draw: st.DrawFn, principals: list[str]) -> dict[str, str]:
    """Draw an access map naming each principal at most once, in any spelling."""
    chosen = draw(subsets(principals, maximum=4))
    return {draw(spellings(name)): draw(st.sampled_from(LEVELS)) for name in chosen}


@st.composite
def folders(draw: st.DrawFn, principals: list[str], depth: int) -> list[dict[str, Any]]:
    """Draw the subfolders of one folder; siblings get distinct names."""
    if depth > MAXIMUM_DEPTH:
        return []
    count = draw(st.integers(0, 3 if depth < 3 else 1))
    children = []
    for index in range(count):
        child: dict[str, Any] = {"name": f"Dossier {depth}.{index} é"}
        access = draw(access_maps(principals))
        if access:
            child["access"] = access
        if draw(st.integers(0, 4)) == 0:
            child["inherit"] = False
        subfolders = draw(folders(principals, depth + 1))
        if subfolders:
            child["folders"] = subfolders
        children.append(child)
    return children


@st.composite
def spec_data(draw: st.DrawFn) -> dict[str, Any]:
    """Draw raw spec data that a user could have written (and that validates)."""
    groups = draw(subsets(GROUP_NAMES, minimum=1))
    logins = draw(subsets(LOGINS, minimum=1))
    users = []
    for login in logins:
        user: dict[str, Any] = {"login": login}
        member_of = draw(st.lists(st.sampled_from(groups), max_size=3))
        user["groups"] = [draw(spellings(group)) for group in member_of]
        if draw(st.integers(0, 5)) == 0:
            user["state"] = "disabled"
        users.append(user)
    # User entries are the exception: only a few logins may appear in access maps.
    principals = groups + draw(subsets(logins, maximum=2))
    shares = [{"name": f"Share {index}", "access": draw(access_maps(principals)),
               "folders": draw(folders(principals, 1))}
              for index in range(draw(st.integers(1, 2)))]
    return {"organization": "prop", "groups": [{"name": name} for name in groups],
            "users": users, "shares": shares}


def to_spec(data: dict[str, Any]) -> Spec:
    """Given generated data, return the Spec, after checking the generator made it valid."""
    problems = check_spec_data(data, SourceMap("generated.yml"))
    assert [problem for problem in problems if problem.severity == "error"] == []
    return Spec.model_validate(data)


def nodes(data: dict[str, Any]) -> list[Node]:
    """Given raw data, return every folder in pre-order with its chain from the share."""
    found: list[Node] = []

    def visit(node: dict[str, Any], path: Path, chain: tuple[dict[str, Any], ...]) -> None:
        found.append(Node((*path, node["name"]), (*chain, node)))
        for child in node.get("folders", []):
            visit(child, (*path, node["name"]), (*chain, node))

    for share in data["shares"]:
        visit(share, (), ())
    return found


def canonical(data: dict[str, Any], key: str) -> tuple[str, str]:
    """Given an access key or membership in any spelling, return (kind, canonical name)."""
    for group in data["groups"]:
        if key.casefold() in (group["name"].casefold(), slugify(group["name"])):
            return ("group", group["name"])
    return ("user", key.casefold())


def reference_base_level(data: dict[str, Any], user: dict[str, Any], node: Node) -> str:
    """The level from entries alone: own entry if any, else the best of the user's groups."""
    start = max((index for index, item in enumerate(node.chain)
                 if item.get("inherit", True) is False), default=0)
    entries: dict[tuple[str, str], str] = {}
    for item in node.chain[start:]:  # deeper entries override the same principal
        for key, level in item.get("access", {}).items():
            entries[canonical(data, key)] = level
    own = entries.get(("user", user["login"]))
    if own is not None:
        return own
    groups = {canonical(data, group) for group in user.get("groups", [])}
    return max((entries.get(group, "none") for group in groups), key=RANK.__getitem__,
               default="none")


def reference_access(data: dict[str, Any]) -> dict[str, dict[Path, str]]:
    """Naive effective access: every user, every folder, walked from the root each time."""
    all_nodes = nodes(data)
    result: dict[str, dict[Path, str]] = {}
    for user in data["users"]:
        if user.get("state") == "disabled":
            result[user["login"]] = {node.path: "none" for node in all_nodes}
            continue
        base = {node.path: reference_base_level(data, user, node) for node in all_nodes}
        result[user["login"]] = {
            path: "traverse" if level == "none" and any(
                other[:len(path)] == path and len(other) > len(path) and found != "none"
                for other, found in base.items()) else level
            for path, level in base.items()}
    return result


def by_path(table: RightsTable) -> dict[str, dict[Path, str]]:
    return {login: {folder.path: level.value for folder, level in zip(table.folders, levels,
                                                                        strict=True)}
            for login, levels in table.access.items()}


@SETTINGS
@given(spec_data())
def test_resolution_matches_the_naive_reference(data: dict[str, Any]) -> None:
    assert by_path(resolve_rights(to_spec(data))) == reference_access(data)


@SETTINGS
@given(spec_data())
def test_private_folders_never_leak_a_parents_right(data: dict[str, Any]) -> None:
    access = by_path(resolve_rights(to_spec(data)))
    for node in nodes(data):
        private = [index for index, item in enumerate(node.chain) if item.get("inherit") is False]
        if not private:
            continue
        named = {canonical(data, key) for item in node.chain[private[-1]:]
                 for key, level in item.get("access", {}).items() if level != "none"}
        for user in data["users"]:
            groups = {canonical(data, group) for group in user["groups"]}
            if not named & (groups | {("user", user["login"])}):
                assert access[user["login"]][node.path] in ("none", "traverse")


@SETTINGS
@given(spec_data())
def test_a_users_right_is_the_best_of_their_groups_unless_named(data: dict[str, Any]) -> None:
    # Probe users, one per group and never named in access maps, give each group's level.
    probes: list[dict[str, Any]] = [
        {"login": f"probe{index}", "groups": [group["name"]]}
        for index, group in enumerate(data["groups"])]
    with_probes = {**data, "users": data["users"] + probes}
    access = by_path(resolve_rights(to_spec(with_probes)))
    named = {canonical(data, key)[1] for node in nodes(data) for item in node.chain
             for key in item.get("access", {})}
    probe_of = {group["name"]: probe["login"] for group, probe in zip(data["groups"], probes,
                                                                       strict=True)}
    for user in data["users"]:
        if user["login"] in named or user.get("state") == "disabled":
            continue
        group_names = {canonical(data, membership)[1] for membership in user["groups"]}
        for node in nodes(data):
            levels = [access[probe_of[name]][node.path] for name in group_names]
            best = max((level for level in levels if level != "traverse"),
                       key=RANK.__getitem__, default="none")
            mine = access[user["login"]][node.path]
            assert (mine if mine != "traverse" else "none") == best


@SETTINGS
@given(spec_data())
def test_traverse_is_exactly_the_way_to_readable_folders(data: dict[str, Any]) -> None:
    table = resolve_rights(to_spec(data))
    for levels in table.access.values():
        for folder in table.folders:
            below = [other for other in table.folders
                     if other.path[:len(folder.path)] == folder.path and other is not folder]
            opens_below = any(levels[other.index] in (Access.READ, Access.WRITE)
                              for other in below)
            if levels[folder.index] is Access.TRAVERSE:
                assert opens_below
            if opens_below:
                assert levels[folder.index] is not Access.NONE


@SETTINGS
@given(spec_data())
def test_principal_traverse_lists_who_must_pass(data: dict[str, Any]) -> None:
    table = resolve_rights(to_spec(data))
    for folder in table.folders:
        below = [other for other in table.folders
                 if other.path[:len(folder.path)] == folder.path and other is not folder]
        groups_below = {principal for other in below
                        for principal, level in other.entries.items()
                        if level != "none" and principal.kind == "group"}
        groups_here = {principal for principal, level in folder.entries.items()
                       if level != "none"}
        passing = {principal for principal in folder.traverse if principal.kind == "group"}
        assert passing == groups_below - groups_here


@SETTINGS
@given(spec_data())
def test_disabled_users_have_nothing_anywhere(data: dict[str, Any]) -> None:
    table = resolve_rights(to_spec(data))
    for user in data["users"]:
        if user.get("state") == "disabled":
            assert set(table.access[user["login"]]) <= {Access.NONE}


@SETTINGS
@given(spec_data(), st.randoms(use_true_random=False))
def test_user_order_does_not_matter(data: dict[str, Any], random: Any) -> None:
    shuffled = list(data["users"])
    random.shuffle(shuffled)
    first = resolve_rights(to_spec(data))
    second = resolve_rights(to_spec({**data, "users": shuffled}))
    assert by_path(first) == by_path(second)
    assert [folder.traverse for folder in first.folders] == \
        [folder.traverse for folder in second.folders]
    assert [folder.entries for folder in first.folders] == \
        [folder.entries for folder in second.folders]


@SETTINGS
@given(spec_data())
def test_the_shared_computation_equals_each_user_alone(data: dict[str, Any]) -> None:
    table = resolve_rights(to_spec(data))
    for login, user in table.directory.users.items():
        if not user.enabled:
            continue
        alone = user_levels(table.folders, login,
                            [Principal("group", name) for name in user.groups])
        assert table.access[login] == alone

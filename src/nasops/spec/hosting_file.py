"""The provider's hosting file of a shared NAS: the shares several organisations use together
and each organisation's limits (issue 13).

    version: 1
    id: commun                  # the shared shares live under VOLUME/commun
    shares:
      - name: Commun
        access: {"atable:Coordination": read, "habitat:Résidents": read}
        folders:
          - name: À Table !
            access: {"atable:Coordination": write, atb-jeanne: read}
    organizations:
      atable: {quota: 500G}

A shared share speaks the spec's rights language (folders, `inherit: false`, user
exceptions, traverse-only). Its access keys name a group as `ORGANISATION:GROUP` (the group's
name in that organisation's spec) or by its POSIX name on the NAS (`atb-groupes-achat`), and a
person by the login they type (`atb-jeanne`). It is checked and its rights resolved by the
spec's own code: the shares are validated as those of a spec whose groups and users are every
hosted organisation's, so that every problem is located in the hosting file as in a spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nasops.errors import Problem, SpecError
from nasops.spec.checks import check_spec_data
from nasops.spec.directory import build_directory
from nasops.spec.grammars import control_problem
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES, read_text_file
from nasops.spec.load import LoadedSpec, translate_error
from nasops.spec.models import Group, Size, Spec, User, quota_floor
from nasops.spec.names import suggestion
from nasops.spec.units import format_size, parse_size
from nasops.spec.yaml_source import SourceMap, parse_yaml

# Parts of the stand-in spec that come from the organisations' own specs, not from the
# hosting file: their problems are those of the organisations (validated on their own).
ORGANISATIONS_PARTS = ("organization", "volume", "groups", "users")


class OrganisationLimits(BaseModel):
    """What the provider limits for one hosted organisation."""

    model_config = ConfigDict(extra="forbid", strict=True)
    quota: Size | None = None
    """Everything the organisation stores, all its shares together (enforced by btrfs)."""

    @field_validator("quota")
    @classmethod
    def _quota(cls, value: str | None) -> str | None:
        return quota_floor(value)


class HostingFile(BaseModel):
    """The hosting file's own keys (its shares are checked as a spec's)."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
    """Directory of the shared shares under the volume; not an organisation's id."""
    name: Annotated[str, Field(max_length=200)] = ""
    shares: list[Any] = []
    backup: Any = None
    """The shared shares' own backups, in a spec's words (checked as a spec's section)."""
    organizations: dict[str, OrganisationLimits] = {}

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = control_problem(value)
        if problem:
            raise ValueError(problem)
        return value


@dataclass
class LoadedHosting:
    """A valid hosting file: its own keys, the stand-in spec of its shared shares."""

    hosting: HostingFile
    shared: Spec
    source: SourceMap
    warnings: list[Problem]


def stand_in_data(specs: Sequence[LoadedSpec], hosting_id: str,
                  shares: Any, backup: Any = None) -> dict[str, Any]:
    """Return the raw data of a spec whose groups are every organisation's, named
    `ORGANISATION:GROUP` with their POSIX names, whose users are every organisation's by the
    login they type, and whose shares and backups are the hosting file's (for the spec's own
    checks of names, references, quotas and backups)."""
    groups: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    for loaded in specs:
        spec, identifier = loaded.spec, loaded.spec.organization.id
        directory = build_directory(spec)
        groups += [{"name": f"{identifier}:{group.name}",
                    "system_name": directory.groups[group.name].system_name}
                   for group in spec.groups]
        users += [{"login": directory.users[user.login].system_name, "name": user.name,
                   "state": user.state,
                   "groups": [f"{identifier}:{group}" for group in user.groups]}
                  for user in spec.users]
    first = specs[0].spec.volume if specs else None
    sizes = [loaded.spec.volume.size for loaded in specs if loaded.spec.volume.size]
    volume = {"path": first.path if first else "/srv/nas", **({"size": sizes[0]} if sizes
                                                                else {})}
    return {"version": 1, "organization": {"id": hosting_id}, "volume": volume,
            "groups": groups, "users": users, "shares": shares,
            **({} if backup is None else {"backup": backup})}


def stand_in_spec(data: dict[str, Any]) -> Spec:
    """Given stand-in data whose shares validate, return the spec: its shares validated, its
    groups and users taken as the organisations' specs validated them (their names with the
    `ORGANISATION:` part may pass a spec's own length limits)."""
    shares_only = Spec.model_validate({**data, "groups": [], "users": []})
    return shares_only.model_copy(update={
        "groups": [Group.model_construct(**group) for group in data["groups"]],
        "users": [User.model_construct(**user) for user in data["users"]]})


def read_hosting_id(path: str | Path) -> str | None:
    """Given a hosting file, return its `id` (None when it has none), without checking the
    rest: `nasops validate -i` does that, with the specs it needs."""
    data, _source = parse_yaml(read_text_file(path, "hosting file", MAXIMUM_SPEC_BYTES),
                               str(path))
    identifier = data.get("id") if isinstance(data, dict) else None
    return identifier if isinstance(identifier, str) else None


def load_hosting(path: str | Path, specs: Sequence[LoadedSpec],
                 missing_organisations: bool = False) -> LoadedHosting:
    """Given a hosting file and the loaded specs of its NAS, return it loaded; raise
    SpecError with every located problem. With missing_organisations (a spec of the NAS did
    not load), access keys naming no loaded organisation are left for the next run."""
    text = read_text_file(path, "hosting file", MAXIMUM_SPEC_BYTES)
    data, source = parse_yaml(text, str(path))
    if not isinstance(data, dict):
        raise SpecError([Problem(str(path), 1, 1, "", "the hosting file must be a mapping of "
                                                      "keys (version:, id:, shares: …)")])
    problems: list[Problem] = []
    hosting: HostingFile | None = None
    try:
        hosting = HostingFile.model_validate(data)
    except ValidationError as error:
        problems += list(dict.fromkeys(
            source.problem(tuple(item["loc"]), _words(item)) for item in error.errors()
            if item["loc"][:1] != ("shares",)))
    identifiers = {loaded.spec.organization.id for loaded in specs}
    problems += _organisation_problems(data, source, specs, identifiers, missing_organisations)
    stand_in = stand_in_data(specs, str(data.get("id") or "shared"), data.get("shares") or [],
                             data.get("backup"))
    # A backup without shared shares is refused by the spec's own check ("nothing to back
    # up").
    for problem in check_spec_data(stand_in, source):
        if problem.path.startswith(ORGANISATIONS_PARTS):
            continue  # the organisations' own, reported by their specs
        if missing_organisations and problem.message.startswith("unknown group or user") \
                and problem.path.rsplit(".", 1)[-1].split(":", 1)[0] not in identifiers:
            continue  # an organisation whose spec did not load: judged once it does
        problems.append(problem)
    for index, share in enumerate(data.get("shares") or []):
        if isinstance(share, dict) and share.get("sync") is True:
            problems.append(source.problem(("shares", index, "sync"), (
                "syncing a shared share to laptops is not built yet: each organisation "
                "syncs its own shares")))
    shared: Spec | None = None
    try:
        shared = stand_in_spec(stand_in)
    except ValidationError as error:
        # The stand-in's other parts are the organisations' (reported by their specs).
        problems += [translate_error(item, source) for item in error.errors()
                     if item["loc"][:1] in (("shares",), ("backup",))]
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors or hosting is None or shared is None:
        raise SpecError(list(dict.fromkeys(errors)) or [Problem(
            str(path), 1, 1, "", "the hosting file could not be read")])
    warnings = list(dict.fromkeys(problem for problem in problems
                                  if problem.severity == "warning"))
    return LoadedHosting(hosting, shared, source, warnings)


def _organisation_problems(data: dict[str, Any], source: SourceMap,
                           specs: Sequence[LoadedSpec], identifiers: set[str],
                           missing_organisations: bool) -> list[Problem]:
    """The `organizations` limits and the `id` against the hosted organisations."""
    problems: list[Problem] = []
    organizations = data.get("organizations")
    by_id = {loaded.spec.organization.id: loaded.spec for loaded in specs}
    sizes = [parse_size(loaded.spec.volume.size) for loaded in specs if loaded.spec.volume.size]
    for name, limits in (organizations.items() if isinstance(organizations, dict) else ()):
        if name not in identifiers:
            if not missing_organisations:
                hint = suggestion(str(name), sorted(identifiers))
                problems.append(source.problem(("organizations", name), (
                    f"no organisation '{name}' on this NAS{hint}: the keys are the "
                    "organization ids of the specs the inventory names")))
            continue
        quota = limits.get("quota") if isinstance(limits, dict) else None
        try:
            quota_bytes = parse_size(quota) if isinstance(quota, str) else None
        except ValueError:
            continue  # the model says why
        if quota_bytes is None:
            continue
        if sizes and quota_bytes > min(sizes):
            problems.append(source.problem(("organizations", name, "quota"), (
                f"quota {quota} is larger than the volume ({format_size(min(sizes))})")))
        largest = max((parse_size(share.quota) for share in by_id[name].shares
                       if share.quota), default=0)
        if largest > quota_bytes:
            problems.append(source.problem(("organizations", name, "quota"), (
                f"quota {quota} is smaller than one of {name}'s shares' own quota "
                f"({format_size(largest)}): that share can never fill up to its own"),
                severity="warning"))
    if data.get("id") in identifiers:
        problems.append(source.problem(("id",), (
            f"'{data.get('id')}' is an organisation's id: the shared shares need a directory "
            "of their own under the volume")))
    return problems


# Plain words for the pydantic errors of the hosting file's own keys, by error type.
TYPE_WORDS = {
    "missing": "required: the shared shares' directory under the volume, e.g. id: commun",
    "dict_type": "expected a mapping of keys here",
    "model_type": "expected a mapping of keys here",
    "list_type": "expected a list here",
    "string_type": "expected text here",
}


def _words(error: Any) -> str:
    """Given a pydantic error on the hosting file's own keys, return it in plain words."""
    kind, location = error.get("type"), tuple(error.get("loc") or ())
    if kind == "extra_forbidden":
        keys = ("only quota" if location[:1] == ("organizations",)
                else "version, id, name, shares, backup, organizations")
        words = f"unknown key here (allowed: {keys})"
    elif location == ("version",):
        words = f"'{error.get('input')}' is not allowed; use 1"
    elif location == ("id",) and kind == "string_pattern_mismatch":
        words = ("use lowercase letters, digits and '-', starting with a letter (at most 31 "
                 "characters), e.g. commun")
    else:
        words = TYPE_WORDS.get(str(kind)) or str(error.get("msg", "not valid here"))
    return words.removeprefix("Value error, ")

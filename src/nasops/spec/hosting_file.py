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
name or POSIX name in that organisation's spec) and a person by the login they type
(`atb-jeanne`). It is checked and its rights resolved by the spec's own code: the shares are
validated as those of a spec whose groups and users are every hosted organisation's, so that
every problem is located in the hosting file exactly as in a spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nasops.errors import Problem, SpecError
from nasops.spec.checks import check_spec_data
from nasops.spec.directory import build_directory
from nasops.spec.input_file import MAXIMUM_SPEC_BYTES, read_text_file
from nasops.spec.load import LoadedSpec, translate_error
from nasops.spec.models import Size, Spec
from nasops.spec.names import suggestion
from nasops.spec.yaml_source import SourceMap, parse_yaml

# Parts of the stand-in spec that come from the organisations' own specs, not from the
# hosting file: their problems are those of the organisations (validated on their own).
ORGANISATIONS_PARTS = ("organization", "volume", "groups", "users")


class OrganisationLimits(BaseModel):
    """What the provider limits for one hosted organisation."""

    model_config = ConfigDict(extra="forbid")
    quota: Size | None = None
    """Everything the organisation stores, all its shares together (enforced by btrfs)."""


class HostingFile(BaseModel):
    """The hosting file's own keys (its shares are checked as a spec's)."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(1, ge=1, le=1)
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
    """Directory of the shared shares under the volume; not an organisation's id."""
    name: str = ""
    shares: list[Any] = []
    organizations: dict[str, OrganisationLimits] = {}


@dataclass
class LoadedHosting:
    """A valid hosting file: its own keys, the stand-in spec of its shared shares."""

    hosting: HostingFile
    shared: Spec
    source: SourceMap


def stand_in_data(specs: Sequence[LoadedSpec], hosting_id: str, volume: str,
                  shares: Any) -> dict[str, Any]:
    """Return the data of a spec whose groups are every organisation's, named
    `ORGANISATION:GROUP` with their POSIX names, whose users are every organisation's by the
    login they type, and whose shares are the hosting file's."""
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
    return {"version": 1, "organization": {"id": hosting_id}, "volume": {"path": volume},
            "groups": groups, "users": users, "shares": shares}


def load_hosting(path: str | Path, specs: Sequence[LoadedSpec]) -> LoadedHosting:
    """Given a hosting file and the loaded specs of its NAS, return it loaded; raise
    SpecError with every located problem."""
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
        problems += [source.problem(tuple(item["loc"]), _words(item))
                     for item in error.errors()]
    identifiers = {loaded.spec.organization.id for loaded in specs}
    organizations = data.get("organizations")
    for name in organizations if isinstance(organizations, dict) else {}:
        if name not in identifiers:
            hint = suggestion(str(name), sorted(identifiers))
            problems.append(source.problem(("organizations", name), (
                f"no organisation '{name}' on this NAS{hint}: the keys are the "
                "organization ids of the specs the inventory names")))
    if data.get("id") in identifiers:
        problems.append(source.problem(("id",), (
            f"'{data.get('id')}' is an organisation's id: the shared shares need a directory "
            "of their own under the volume")))
    shared: Spec | None = None
    stand_in = stand_in_data(specs, str(data.get("id") or "shared"),
                             specs[0].spec.volume.path if specs else "/srv/nas",
                             data.get("shares") or [])
    problems += [problem for problem in check_spec_data(stand_in, source)
                 if not problem.path.startswith(ORGANISATIONS_PARTS)]
    try:
        shared = Spec.model_validate(stand_in)
    except ValidationError as error:
        problems += [translate_error(item, source)
                     for item in error.errors() if item["loc"][:1] == ("shares",)]
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors or hosting is None or shared is None:
        raise SpecError(list(dict.fromkeys(errors)) or [Problem(
            str(path), 1, 1, "", "the hosting file could not be read")])
    return LoadedHosting(hosting, shared, source)


def _words(error: Any) -> str:
    """Given a pydantic error, return it in plain words."""
    if error.get("type") == "extra_forbidden":
        return "unknown key here (the hosting file has version, id, name, shares, organizations)"
    return str(error.get("msg", "not valid here")).removeprefix("Value error, ")

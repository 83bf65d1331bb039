"""The spec's models: the single source of truth for one organisation's NAS.

Field checks that need only the field live here; checks across the tree (unknown groups,
duplicates, rights) live in `nasops.spec.checks` so that all problems are reported at once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from nasops.spec.calendar import schedule_problem
from nasops.spec.grammars import (
    argument_problem,
    full_name_problem,
    listen_host_problem,
    plain_path_problem,
    plain_text_problem,
    samba_text_problem,
    server_problem,
    sync_address_problem,
)
from nasops.spec.units import parse_duration, parse_size, parse_subset


class Level(StrEnum):
    """What a principal may do in a folder. Ordered: none < read < write."""

    NONE = "none"
    READ = "read"
    WRITE = "write"

    @property
    def rank(self) -> int:
        """Return 0, 1 or 2 so that levels can be compared."""
        return LEVEL_RANKS[self]


LEVEL_RANKS = {Level.NONE: 0, Level.READ: 1, Level.WRITE: 2}


class StrictModel(BaseModel):
    """Base: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _schedule(value: str) -> str:
    # Syntax as systemd parses it, and a next elapse: a timer that never fires fails silently.
    problem = schedule_problem(value)
    if problem:
        raise ValueError(problem)
    return value.strip()


def _grammar(check: Any) -> AfterValidator:
    """Given a grammar function (value -> problem or None), return a pydantic validator."""
    def validate(value: str) -> str:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value
    return AfterValidator(validate)


def _no_empty_sources(value: list[str] | None) -> list[str] | None:
    if value is not None and not value:
        raise ValueError("a backup with no sources backs up nothing; list share names, or "
                         "leave `sources` out to back up every share")
    return value


def _size(value: str) -> str:
    parse_size(value)
    return value


def _size_text(value: Any) -> Any:
    # `quota: 200` is a number in YAML; keep it as text so that the unit check explains it.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def quota_floor(value: str | None) -> str | None:
    """Refuse a quota below 1M: almost always a forgotten unit (`quota: 200`)."""
    if value is not None and parse_size(value) < 1024**2:
        raise ValueError(f"quota '{value}' is below 1M; did you forget the unit (G, T)?")
    return value


Schedule = Annotated[
    str, AfterValidator(_schedule),
    Field(description="systemd OnCalendar expression", examples=["daily", "*-*-* 01:30"]),
]
Size = Annotated[str, BeforeValidator(_size_text), AfterValidator(_size),
                 Field(examples=["500G", "1.5T"])]
Duration = Annotated[str, AfterValidator(parse_duration), Field(examples=["30d", "1y"])]
Subset = Annotated[str, AfterValidator(parse_subset), Field(examples=["5%", "1/10", "2G"])]
AccessMap = dict[str, Level]
# The languages people's handouts are written in (nasops.guide).
Language = Literal["en", "fr", "nl"]


class Organization(StrictModel):
    """Who this spec is for. Several organisations may share one NAS."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
    """Short identifier (lowercase, digits, '-'); keeps organisations apart on a shared NAS."""
    name: str = ""
    """Full name shown in reports."""
    account_prefix: Annotated[str, Field(pattern=r"^([a-z][a-z0-9]{0,7}-)?$")] = ""
    """Prefix for system users, groups and Samba share names, e.g. 'wsm-' on a shared NAS."""
    language: Language = "en"
    """Language of people's handouts (`nasops guide`) unless a person says otherwise."""
    contact: Annotated[str, Field(max_length=200), _grammar(plain_text_problem)] = ""
    """Who people ask for access, as the handouts say it, e.g. 'Marie-Line Simon, 02 555 01 23'."""
    server: Annotated[str, _grammar(server_problem)] = "nas"
    """The NAS's name as people type it to connect (\\\\nas\\Share, smb://nas/Share)."""


class Volume(StrictModel):
    """Where the shares live on the NAS."""

    path: Annotated[str, Field(pattern=r"^/.*$"), _grammar(plain_path_problem)] = "/srv/nas"
    """Absolute path of the data volume; on btrfs, quotas are enforced."""
    size: Size | None = None
    """Size of the volume (e.g. 4T), used to check that quotas fit."""


class Group(StrictModel):
    """A group of people; rights are mostly given to groups."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    """Name used in the spec and reports; accents and spaces are fine."""
    system_name: str | None = None
    """POSIX group name on the NAS; derived from `name` when left out."""
    description: str = ""
    """What the group is for."""


class Device(StrictModel):
    """A laptop that synchronises shares with the NAS (Syncthing)."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    """A name people recognise, e.g. 'laptop-nepal'."""
    id: Annotated[str, Field(pattern=r"^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$")]
    """Syncthing device ID: eight groups of seven capital letters/digits 2-7."""
    address: Annotated[str, _grammar(
        lambda value: sync_address_problem(value, listening=False))] = "dynamic"
    """How the NAS reaches it: 'dynamic' or e.g. 'tcp://127.0.0.3:22000'."""


class User(StrictModel):
    """A person with an account on the NAS."""

    login: str
    """POSIX login: lowercase letters, digits, '.', '-', '_' (no accents)."""
    name: Annotated[str, _grammar(full_name_problem)] = ""
    """Full name, accents welcome."""
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    """Email address for notifications."""
    groups: list[str] = []
    """Groups this person belongs to."""
    state: Literal["present", "disabled"] = "present"
    """'disabled' denies login but keeps the account's data."""
    devices: list[Device] = []
    """Laptops this person synchronises with the NAS."""
    language: Language | None = None
    """Language of this person's handout; the organisation's when unset."""


class Folder(StrictModel):
    """A folder in a share's tree, with who may read or change it."""

    name: str
    """Folder name as people see it; accents and spaces are fine."""
    description: str = ""
    """What belongs in this folder."""
    access: AccessMap = {}
    """Group or login -> none, read or write. Overrides the same principal of the parent."""
    inherit: bool = True
    """false: start from nothing instead of the parent's rights (a private folder)."""
    renamed_from: str | None = None
    """Former name of this folder on the NAS; it is renamed in place, data kept."""
    folders: list[Folder] = []
    """Subfolders."""


class Share(StrictModel):
    """A top-level folder published as an SMB share."""

    name: str
    """Share name as people see it; also the top folder's name."""
    description: Annotated[str, _grammar(samba_text_problem)] = ""
    """Shown as the share comment."""
    quota: Size | None = None
    """Size limit like 200G or 1.5T; enforced on btrfs."""
    sync: bool = False
    """Synchronise this share with the devices of people who may read it."""
    access: AccessMap = {}
    """Group or login -> none, read or write."""
    renamed_from: str | None = None
    """Former share name; the share and its folder are renamed in place."""
    folders: list[Folder] = []
    """Folder tree inside the share."""

    @field_validator("quota")
    @classmethod
    def _quota(cls, value: str | None) -> str | None:
        return quota_floor(value)


class Retention(StrictModel):
    """How many snapshots to keep (restic forget --keep-*)."""

    last: Annotated[int, Field(ge=0, le=10000)] = 0
    hourly: Annotated[int, Field(ge=0, le=10000)] = 0
    daily: Annotated[int, Field(ge=0, le=10000)] = 7
    weekly: Annotated[int, Field(ge=0, le=10000)] = 4
    monthly: Annotated[int, Field(ge=0, le=10000)] = 12
    yearly: Annotated[int, Field(ge=0, le=10000)] = 0
    within: Duration | None = None
    """Keep every snapshot younger than this, e.g. 30d."""

    @model_validator(mode="after")
    def _keeps_something(self) -> Retention:
        counts = (self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly)
        if not any(counts) and not self.within:
            raise ValueError("this retention keeps no snapshot at all; set e.g. daily: 7")
        return self


class Repository(StrictModel):
    """A restic repository; its password comes from the secrets file, never the spec."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]
    """Short name used in metrics, unit names and the secrets file."""
    url: str
    """restic repository: /path, sftp:user@host:/path, rest:https://host/path, rclone:…"""
    schedule: Schedule | None = None
    """Overrides the backup schedule for this repository."""


class CheckPolicy(StrictModel):
    """Regular integrity check of each repository."""

    schedule: Schedule = "weekly"
    read_data_subset: Subset = "5%"
    """Part of the data to read back each time: 5%, 1/10 or a size."""


class DrillPolicy(StrictModel):
    """Regular restore test: restore a sample of files and compare them byte for byte."""

    schedule: Schedule = "monthly"
    sample_files: Annotated[int, Field(ge=1, le=100000)] = 50


class Backup(StrictModel):
    """Backups with restic: where, when, how long."""

    schedule: Schedule = "*-*-* 01:30"
    """When backups run (systemd OnCalendar)."""
    repositories: Annotated[list[Repository], Field(min_length=1)]
    retention: Retention = Retention()
    sources: Annotated[list[str] | None, AfterValidator(_no_empty_sources)] = None
    """Share names to back up; all shares when left out."""
    exclude: list[Annotated[str, Field(min_length=1), _grammar(argument_problem)]] = []
    """Patterns to leave out, e.g. '*.tmp'."""
    check: CheckPolicy = CheckPolicy()
    drill: DrillPolicy = DrillPolicy()


class SyncPolicy(StrictModel):
    """How the NAS's Syncthing finds laptops. All off by default: addresses come from the spec."""

    global_discovery: bool = False
    local_discovery: bool = False
    relays: bool = False
    nat_traversal: bool = False
    usage_reporting: Literal[False] = False
    """Always off: we never send usage data."""
    listen_addresses: list[Annotated[str, _grammar(
        lambda value: sync_address_problem(value, listening=True))]] = []
    """e.g. ['tcp://0.0.0.0:22000']; empty means the role's default."""


class Monitoring(StrictModel):
    """The Prometheus exporter on the NAS."""

    listen_address: Annotated[str, _grammar(listen_host_problem)] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 9750
    drift_check: Schedule = "hourly"
    """How often the NAS compares itself with the spec (read-only)."""


class Spec(StrictModel):
    """One organisation's NAS: people, groups, folder tree with rights, backups, sync."""

    version: Literal[1] = 1
    """Format version of this file."""
    organization: Organization
    volume: Volume = Volume()
    groups: list[Group] = []
    users: list[User] = []
    shares: list[Share] = []
    backup: Backup | None = None
    sync: SyncPolicy = SyncPolicy()
    monitoring: Monitoring = Monitoring()

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        # `organization: wsm` and `volume: /srv/nas` are accepted as shorthands.
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("organization"), str):
                data["organization"] = {"id": data["organization"]}
            if isinstance(data.get("volume"), str):
                data["volume"] = {"path": data["volume"]}
        return data

"""The desired state of one NAS as a typed contract: what compile produces and the NAS reads.

`nasops.compile.desired` builds it from a validated spec; `DesiredState` says exactly which
keys it has and what they mean (docs/provisioning-contract.md), refuses any other key, and
gives the JSON Schema that `nasops spec schema --desired` prints. Everything here is already
resolved: the NAS does no rights reasoning, it converges to this.

The models are strict (no coercion: a number where a name belongs is a compile bug, not
something to paper over) and frozen. `desired_fingerprint` names a state by the SHA-256 of
its canonical JSON, so two runs, or the controller and the NAS, can tell whether they hold
the same state without comparing it key by key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DESIRED_STATE_VERSION = 3
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

EntryLevel = Literal["write", "read", "traverse", "none"]
Count = Annotated[int, Field(ge=0)]


class ContractModel(BaseModel):
    """Base: unknown keys are errors, values are never coerced, a state never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True,
                              use_attribute_docstrings=True)


class DesiredGroup(ContractModel):
    """A POSIX group of the organisation (one per spec group)."""

    name: str
    """POSIX group name (with the organisation's account prefix)."""
    display_name: str
    """The group's name as the spec writes it (accents and spaces allowed)."""
    description: str
    """What the group is for, from the spec."""
    members: list[str]
    """Logins of its members, sorted (for reading; each user's `groups` is what is applied)."""


class DesiredUser(ContractModel):
    """A person's account: POSIX user and Samba login."""

    login: str
    """POSIX login (with the organisation's account prefix)."""
    full_name: str
    """Full name, written to the account's GECOS field."""
    enabled: bool
    """False: the account exists but can no longer log in (people are never deleted)."""
    groups: list[str]
    """POSIX names of the user's supplementary groups, sorted."""
    users_group: str
    """The primary group: the users group of the user's organisation."""


class AclEntry(ContractModel):
    """One ACL entry of a folder: who, and what they may do there."""

    kind: Literal["user", "group"]
    """Whether `name` is a user or a group."""
    name: str
    """POSIX name of the user or group."""
    level: EntryLevel
    """write, read, traverse (may pass through to reach a folder below, sees only that) or
    none (a user shut out of a folder their groups may open)."""


class DesiredFolder(ContractModel):
    """A managed folder of a share and its complete ACL."""

    path: str
    """Path relative to the share's directory; empty for the share's root. Parents come
    before their children."""
    renamed_from: str | None
    """Former name within the same parent, renamed in place; null when not renamed."""
    entries: list[AclEntry]
    """Every ACL entry of the folder, users first, then groups, each sorted by name. A user
    entry carries that user's whole access (it is matched before any group entry)."""


class DesiredShare(ContractModel):
    """A Samba share: one directory under the organisation's root, with its folder tree."""

    name: str
    """Samba share name (with the account prefix)."""
    organization: str
    """Id of the organisation whose share it is (on a shared NAS, the hosting file's id for
    the shares several organisations use together): the exporter's `organization` label."""
    display_name: str
    """The share's name as the spec writes it, also its directory name."""
    path: str
    """Absolute directory of the share (a btrfs subvolume on a btrfs volume)."""
    comment: str
    """Samba comment shown to people (the spec's description)."""
    quota_bytes: Count | None
    """Size limit in bytes; null for no limit."""
    renamed_from: str | None
    """Former absolute directory, renamed in place; null when not renamed."""
    sync: bool
    """Whether Syncthing offers parts of this share to laptops."""
    valid_users: list[str]
    """Samba `valid users`: logins and `@group` names, sorted; empty closes the share."""
    folders: list[DesiredFolder]
    """The share's managed folders, root first, in pre-order."""


class SyncOptions(ContractModel):
    """How the NAS's Syncthing finds laptops; everything is off unless the spec turns it on."""

    global_discovery: bool
    """Announce to and ask Syncthing's global discovery servers."""
    local_discovery: bool
    """Broadcast on the local network."""
    relays: bool
    """Use Syncthing's public relays."""
    nat_traversal: bool
    """Open ports with UPnP or NAT-PMP."""
    usage_reporting: Literal[False]
    """Always false: usage data is never sent."""
    listen_addresses: list[str]
    """Where Syncthing listens for laptops; empty keeps Syncthing's own default."""


class SyncDevice(ContractModel):
    """A laptop the NAS syncs with."""

    id: str
    """Syncthing device ID (checked by `nasops validate`)."""
    name: str
    """Name shown in Syncthing: the device's name and its owner's login."""
    owner: str
    """Login of the person whose laptop it is (always an enabled user)."""
    addresses: list[str]
    """`dynamic` or `tcp://host:port` addresses of the device."""


class SyncFolder(ContractModel):
    """A Syncthing folder: one region of a synced share, for one access class."""

    id: str
    """Stable Syncthing folder ID, ending in `-rw` or `-ro`."""
    label: str
    """Label shown on the laptops."""
    share: str
    """The share's name in the spec."""
    path: str
    """Absolute directory of the region on the NAS."""
    folder: str
    """The region's path inside the share; empty for the share's root."""
    type: Literal["sendreceive", "sendonly"]
    """sendreceive for people who may write the whole region, sendonly for readers."""
    owners: list[str]
    """Logins whose devices share this folder."""
    devices: list[str]
    """Device IDs this folder is shared with."""
    excluded: list[str]
    """Nested regions (paths relative to this folder) that stay out of it."""


class SyncState(ContractModel):
    """Syncthing on the NAS (docs/sync.md)."""

    enabled: bool
    """Whether any enabled user has a device; false stops a Syncthing set up earlier."""
    account: str
    """System account Syncthing runs as; the shares' ACL entries name it."""
    options: SyncOptions
    """Discovery, relay and listening options."""
    devices: list[SyncDevice]
    """Every device of every enabled user."""
    folders: list[SyncFolder]
    """Every Syncthing folder the NAS offers."""


class BackupRetention(ContractModel):
    """Which snapshots `restic forget` keeps."""

    last: Count
    """Keep the last N snapshots."""
    hourly: Count
    """Keep one snapshot per hour for the last N hours that have one."""
    daily: Count
    """Keep one snapshot per day for the last N days that have one."""
    weekly: Count
    """Keep one snapshot per week for the last N weeks that have one."""
    monthly: Count
    """Keep one snapshot per month for the last N months that have one."""
    yearly: Count
    """Keep one snapshot per year for the last N years that have one."""
    within: str | None
    """Keep every snapshot younger than this duration (such as `30d`); null for none."""


class BackupRepository(ContractModel):
    """A restic repository the shares are backed up to."""

    name: str
    """Repository name (systemd units, password key, metrics)."""
    url: str
    """restic repository URL or absolute path."""
    kind: str
    """local (an absolute path), sftp, or the URL's scheme (rest, rclone, s3, …)."""
    schedule: str
    """systemd OnCalendar of its backups."""
    mount_point: str | None
    """For a local repository on a removable disk: the mount point that must be mounted
    before anything touches the repository; null otherwise."""
    local_path: str | None
    """Directory of a local repository; null for other kinds."""
    sftp_host: str | None
    """Host of an SFTP repository; null for other kinds."""
    sftp_user: str | None
    """User of an SFTP repository; null for other kinds."""
    organization: str
    """Id of the organisation whose shares it holds (its password is that organisation's)."""
    sources: list[str]
    """Absolute share directories backed up to it, each once: its organisation's only."""
    exclude: list[str]
    """restic exclude patterns."""
    retention: BackupRetention
    """Which snapshots are kept."""
    read_data_subset: str
    """How much of the data each integrity check reads back (`5%`, `1/10`, `2G`)."""
    sample_files: Annotated[int, Field(ge=1)]
    """How many files each restore drill restores."""


class BackupCheck(ContractModel):
    """The regular integrity check of every repository (one timer per NAS)."""

    schedule: str
    """systemd OnCalendar of the check."""


class BackupDrill(ContractModel):
    """The regular restore test of every repository (one timer per NAS)."""

    schedule: str
    """systemd OnCalendar of the drill."""


class BackupEnabled(ContractModel):
    """Backups as the spec's `backup` section asks."""

    enabled: Literal[True]
    """True: the spec has a backup section."""
    schedule: str
    """Default systemd OnCalendar of the backups."""
    repositories: list[BackupRepository]
    """Where the backups go, each with what goes into it."""
    check: BackupCheck
    """The integrity check."""
    drill: BackupDrill
    """The restore drill."""


class BackupDisabled(ContractModel):
    """No backup section in the spec: timers stop, repositories and passwords stay."""

    enabled: Literal[False]
    """False: the spec has no backup section."""


class MonitoringState(ContractModel):
    """The NAS's Prometheus exporter and its drift check."""

    listen_address: str
    """Address the exporter listens on."""
    port: Annotated[int, Field(ge=1, le=65535)]
    """TCP port of the exporter."""
    drift_check: str
    """systemd OnCalendar of the read-only drift check."""


class DesiredOrganization(ContractModel):
    """One organisation the NAS hosts (one entry on a NAS of its own)."""

    id: str
    """The organisation's short identifier (its spec's `organization.id`)."""
    account_prefix: str
    """Prefix of every POSIX user, group and share name of it; may be empty."""
    root: str
    """Its directory inside the volume; each of its shares is directly under it."""
    users_group: str
    """Primary group of every user of it; a member absent from `users` is disabled, never
    deleted."""
    quota_bytes: Count | None
    """Everything it stores, all its shares together (the hosting file's limit), or None."""


class DesiredState(ContractModel):
    """Everything one NAS must be, resolved from its organisations' specs (and, for a NAS
    several organisations share, the provider's hosting file)."""

    version: Literal[3]
    """Version of this contract."""
    organization: str
    """The NAS's name for people: its organisation's id, or on a shared NAS the hosting
    file's id (else the inventory host's name)."""
    volume: str
    """Mount point of the data volume."""
    organizations: list[DesiredOrganization]
    """Every organisation the NAS hosts, in the inventory's order."""
    shared_root: str | None
    """The directory of the shares several organisations use together (a shared NAS's
    hosting file), or None."""
    groups: list[DesiredGroup]
    """Every group of every organisation."""
    users: list[DesiredUser]
    """Every person of every organisation, enabled or not."""
    shares: list[DesiredShare]
    """Every share, with its folders and their ACLs: each organisation's, then the shared
    ones."""
    sync: SyncState
    """Syncthing devices and folders."""
    backup: Annotated[BackupEnabled | BackupDisabled, Field(discriminator="enabled")]
    """Backups, or `{"enabled": false}` without a backup section."""
    monitoring: MonitoringState
    """Exporter and drift check settings."""


def share_roots(state: Mapping[str, Any]) -> list[str]:
    """Given a desired state's data (or its outline), return the directories holding its
    shares: each organisation's root, then the shared shares' directory. (playbooks/site.yml
    computes the same list for the roles, as `nasops_roots`.)"""
    roots = [str(organization["root"]) for organization in state["organizations"]]
    return roots + ([str(state["shared_root"])] if state.get("shared_root") else [])


def _plain(state: DesiredState | Mapping[str, Any]) -> Any:
    return state.model_dump(mode="json") if isinstance(state, DesiredState) else state


def canonical_json(state: DesiredState | Mapping[str, Any]) -> str:
    """Given a desired state (model or its JSON data), return its canonical JSON: sorted
    keys, no spaces, UTF-8 text as it is. Equal states give equal text."""
    return json.dumps(_plain(state), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def desired_fingerprint(state: DesiredState | Mapping[str, Any]) -> str:
    """Given a desired state (model or its JSON data), return the SHA-256 (hex) of its
    canonical JSON: anyone holding the same state, in any key order, gets the same value."""
    return hashlib.sha256(canonical_json(state).encode("utf-8")).hexdigest()


def desired_json(state: DesiredState | Mapping[str, Any]) -> str:
    """Given a desired state (model or its JSON data), return the JSON text written to
    files: indented, sorted keys. `nasops compile -o` and `nasops apply` both write it, and
    the NAS keeps a copy (the drift check's desired.json): one format, or the copy would differ."""
    return json.dumps(_plain(state), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def desired_schema() -> dict[str, Any]:
    """Return the desired state's JSON Schema document."""
    document = DesiredState.model_json_schema()
    document["$schema"] = SCHEMA_DIALECT
    document["title"] = "nasops desired state"
    return document

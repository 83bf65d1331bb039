"""The exporter's configuration file (JSON, written by the nas_exporter role).

Secrets never live in this file: the Syncthing API key and the basic-auth password hashes are
read from the files it names, so that the configuration itself may stay world-readable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from ansible_collections.nasops.nas.plugins.module_utils.host_names import REMOTE_USER_TEXT, is_host
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from nasops.errors import BadInputError

DEFAULT_CONFIG_PATH = "/etc/nasops/exporter.json"

Seconds = Annotated[float, Field(gt=0, le=86400 * 7)]
AbsolutePath = Annotated[str, Field(pattern=r"^/")]
Command = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class ConfigModel(BaseModel):
    """Base: unknown keys are errors so that typos are not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(ConfigModel):
    """Serve HTTPS with this certificate and key (PEM files)."""

    certificate_file: AbsolutePath
    key_file: AbsolutePath


class BasicAuthConfig(ConfigModel):
    """Require HTTP basic auth; users_file holds `user:bcrypt-hash` lines."""

    users_file: AbsolutePath


class ShareConfig(ConfigModel):
    """One share whose usage is exported."""

    name: Annotated[str, Field(min_length=1)]
    path: AbsolutePath
    quota_bytes: Annotated[int, Field(ge=0)] | None = None
    """The limit from the spec; exported when btrfs enforces none (nasops_quota_enforced 0)."""
    organization: str = ""
    """Id of the organisation whose share it is (nasops_share_organization_info)."""


class OrganizationConfig(ConfigModel):
    """One organisation the NAS hosts, whose shares together may have a limit."""

    id: Annotated[str, Field(min_length=1)]
    root: AbsolutePath
    """Its directory: its shares are directly under it; names its level-1 qgroup."""
    quota_bytes: Annotated[int, Field(ge=0)] | None = None
    """Its limit from the hosting file; exported when btrfs enforces none."""


class QuotaConfig(ConfigModel):
    """Per-share usage: btrfs qgroups, or a background walk of the tree as a fallback."""

    method: Literal["auto", "qgroup", "walk"] = "auto"
    """auto: qgroups where the share has one, the walk for the others."""
    btrfs_command: Command = ["btrfs"]
    """Prefix for btrfs calls, e.g. ["sudo", "-n", "/usr/bin/btrfs"] (qgroup show needs root)."""
    refresh_interval_seconds: Seconds = 60
    walk_interval_seconds: Seconds = 3600
    """How often the fallback walk re-measures a share (it reads every inode)."""
    command_timeout_seconds: Seconds = 30


class SyncthingConfig(ConfigModel):
    """Syncthing's REST API on the NAS."""

    url: Annotated[str, Field(pattern=r"^https?://")] = "http://127.0.0.1:8384"
    api_key_file: AbsolutePath
    ca_file: AbsolutePath | None = None
    """CA bundle for an HTTPS GUI with its own certificate."""
    refresh_interval_seconds: Seconds = 60
    timeout_seconds: Seconds = 10


class SambaConfig(ConfigModel):
    """Sessions and open files from smbstatus."""

    command: Command = ["smbstatus", "--json"]
    """e.g. ["sudo", "-n", "/usr/bin/smbstatus", "--json"]; smbstatus reads root-only tdbs."""
    refresh_interval_seconds: Seconds = 30
    timeout_seconds: Seconds = 20


class ExpectedRepository(ConfigModel):
    """A repository the desired state lists, with its backup schedule (systemd OnCalendar)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    schedule: Annotated[str, Field(min_length=1)]
    organization: str | None = None
    """Id of the organisation whose shares it holds (nasops_backup_organization_info)."""


class BackupScheduleConfig(ConfigModel):
    """What the desired state expects to run, so that a task that never ran is visible."""

    repositories: list[ExpectedRepository] = []
    check_schedule: Annotated[str, Field(min_length=1)] = "weekly"
    drill_schedule: Annotated[str, Field(min_length=1)] = "monthly"
    timer_directory: AbsolutePath = "/etc/systemd/system"
    """Where nas_backup installs nasops-backup@REPOSITORY.timer and the check and drill
    timers: a timer file's modification time is when its schedule started to apply."""
    calendar_command: Command = ["systemd-analyze", "calendar"]
    """Asked for the next runs of each schedule, to know the longest gap between two."""


def _host(value: str) -> str:
    if not is_host(value):
        raise ValueError(f"{value!r} is not an IP address or a host name")
    return value


class QtsConfig(ConfigModel):
    """A QNAP NAS read from outside through its web interface (docs/qts.md): the exporter
    then runs on the monitoring host, not on the NAS."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    """The NAS's name in the `nas` label (its inventory name)."""
    host: Annotated[str, AfterValidator(_host)]
    """An IP address or a host name (the spec's grammar, nasops.spec.grammars.is_host)."""
    port: Annotated[int, Field(ge=1, le=65535)] = 443
    certificate_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    """The NAS's certificate pin, 64 lowercase hex digits."""
    # pydantic's regex engine (Rust) reads $ as the end of the text and has no \Z.
    user: Annotated[str, Field(pattern=rf"^{REMOTE_USER_TEXT}$")] = "admin"
    password_file: AbsolutePath
    """Holds the account's password (read at each refresh: a changed password is used)."""
    refresh_interval_seconds: Seconds = 300
    timeout_seconds: Seconds = 30


class ExporterConfig(ConfigModel):
    """Everything `nasops exporter` needs; a missing section disables that collector."""

    listen_address: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 9750
    """0 binds a free port (tests and benchmarks)."""
    tls: TlsConfig | None = None
    basic_auth: BasicAuthConfig | None = None
    state_directory: AbsolutePath = "/var/lib/nasops"
    """Holds apply.json and drift.json (docs/exporter.md)."""
    backup_status_directory: AbsolutePath | None = "/var/lib/nasops/backup"
    """Holds the status files of `nasops backup`, one per repository."""
    backup_schedules: BackupScheduleConfig | None = None
    """The repositories and schedules of the desired state; None: only status files count."""
    volume_path: AbsolutePath = "/srv/nas"
    shares: list[ShareConfig] = []
    organizations: list[OrganizationConfig] = []
    """Every organisation the NAS hosts (nasops_organization_* families)."""
    quota: QuotaConfig | None = QuotaConfig()
    syncthing: SyncthingConfig | None = None
    samba: SambaConfig | None = SambaConfig()
    drift: bool = True
    """Export the apply and drift records found in state_directory."""
    qts: QtsConfig | None = None
    """A QNAP NAS to read from outside (the off-NAS QTS collector), when set."""
    privileged_socket: AbsolutePath | None = None
    """Run the btrfs and smbstatus commands through the root helper listening on this Unix
    socket (nasops.exporter.privileged; installed by the nas_exporter role) instead of
    starting them directly; the helper runs only the exact command lines it allows."""


def _format_errors(path: str, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{path}: {where}: {item['msg']}")
    return "\n".join(lines)


def parse_config(text: str, source: str = "<config>") -> ExporterConfig:
    """Given the JSON text of a config file, return it validated; raise BadInputError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInputError(f"{source}: not valid JSON: {error}") from None
    try:
        return ExporterConfig.model_validate(data)
    except ValidationError as error:
        raise BadInputError(_format_errors(source, error)) from None


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> ExporterConfig:
    """Given a config file path, return the validated config; raise BadInputError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise BadInputError(f"{path}: cannot read the exporter config: "
                            f"{error.strerror or error}") from None
    return parse_config(text, str(path))


def read_secret_file(path: str, what: str) -> str:
    """Given a secret file path, return its stripped content; raise BadInputError if unusable."""
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise BadInputError(f"{path}: cannot read the {what}: {error.strerror or error}") from None
    if not value:
        raise BadInputError(f"{path}: the {what} file is empty")
    return value

"""`nasops backup check`: restic's integrity check, reading back a subset of the data."""

from __future__ import annotations

from nasops.backup import status
from nasops.backup.actions.common import Attempt, Outcome, for_each_repository, record_outcome
from nasops.backup.config import BackupConfig, RepositoryConfig
from nasops.backup.errors import BackupError, IntegrityError
from nasops.backup.restic.check import build_check_argv
from nasops.backup.session import ResticFeatures, ResticSession
from nasops.errors import NasopsError

MAX_REPORTED_LINES = 20
INFORMATIONAL_PREFIXES = (
    "using temporary cache", "create exclusive lock", "load indexes", "check all packs",
    "check snapshots", "read ", "no errors were found", "[", "loading", "created new cache",
    "Fatal: repository contains errors",
)


def integrity_problems(text: str) -> list[str]:
    """Given `restic check` output, return the lines that describe problems."""
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith(INFORMATIONAL_PREFIXES)]


def _integrity_error(repository: str, error: BackupError) -> BackupError:
    # Damage is reported by restic as a plain exit 1 with "repository contains errors"; any
    # other failure (unreachable, locked…) keeps its own class.
    result = error.result
    if type(error) is not BackupError or result is None or "contains errors" not in result.stderr:
        return error
    problems = integrity_problems(result.stdout + "\n" + result.stderr)
    return IntegrityError(
        f"repository '{repository}' contains errors: "
        + "; ".join(problems[:MAX_REPORTED_LINES] or ["see restic check"]), result)


def check_repository(
    config: BackupConfig, repository: RepositoryConfig, features: ResticFeatures,
    read_data_subset: str | None = None,
) -> Outcome:
    """Given one repository, run the check and record it; return the outcome."""
    config = config.for_repository(repository)
    subset = read_data_subset or config.check.read_data_subset
    attempt = Attempt(fields={"read_data_subset": subset})
    status.record(config.state_directory, repository.name, "check", attempt.running())
    try:
        session = ResticSession(config, repository, features)
        try:
            session.run(build_check_argv(session.options, subset))
        except BackupError as error:
            raise _integrity_error(repository.name, error) from None
    except NasopsError as error:
        return record_outcome(config, repository, "check", attempt, error=error)
    return record_outcome(config, repository, "check", attempt, message="no errors were found")


def check_repositories(
    config: BackupConfig, features: ResticFeatures | None = None,
    repository_name: str | None = None, read_data_subset: str | None = None,
) -> list[Outcome]:
    """Given the config, check the named repository or all; return their outcomes."""
    return for_each_repository(
        config, features, "check", repository_name,
        lambda repository, detected: check_repository(config, repository, detected,
                                                      read_data_subset))

"""`nasops backup init`: create the repositories that do not exist yet (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from nasops.backup.config import BackupConfig
from nasops.backup.errors import RepositoryNotFoundError
from nasops.backup.restic.init import build_cat_config_argv, build_init_argv
from nasops.backup.session import ResticFeatures, ResticSession
from nasops.backup.status import mark_initialised
from nasops.errors import NasopsError


@dataclass(frozen=True)
class InitOutcome:
    """Whether a repository was created, was already there, or failed."""

    repository: str
    created: bool
    error: NasopsError | None = None


def init_repositories(
    config: BackupConfig, features: ResticFeatures, repository_name: str | None = None
) -> list[InitOutcome]:
    """Given the config, create each missing repository; return what happened to each.

    Only "no repository there" leads to `restic init`: an unreachable host or a wrong
    password is reported, never answered by creating a second repository. Each repository
    found or created gets its marker in the state directory; one that failed loses it.
    """
    outcomes = []
    for repository in config.repository(repository_name):
        try:
            session = ResticSession(config, repository, features)
            try:
                session.run(build_cat_config_argv(session.options), locking=False)
                outcome = InitOutcome(repository.name, created=False)
            except RepositoryNotFoundError:
                session.run(build_init_argv(session.options), locking=False)
                outcome = InitOutcome(repository.name, created=True)
        except NasopsError as error:
            outcome = InitOutcome(repository.name, created=False, error=error)
        mark_initialised(config.state_directory, repository.name, outcome.error is None)
        outcomes.append(outcome)
    return outcomes

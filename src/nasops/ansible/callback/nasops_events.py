"""Ansible callback plugin: write every task start, host result and the recap as JSON lines.

nasops runs ansible-playbook with this plugin enabled and reads the file it writes to show
progress and to build its plan, apply and drift summaries. It is loaded by Ansible as a
standalone module, so it imports nothing from nasops.

Results are taken from the callback's censored view (`result.result`): a task or item with
`no_log` reaches this plugin already reduced to `changed`/`failed`/`censored`, and nothing here
reads around that.
"""

from __future__ import annotations

import gc
import json
import os
import posixpath
import time
from collections.abc import Mapping
from typing import Any, TextIO

from ansible import constants, context  # type: ignore[import-untyped]
from ansible.playbook.handler import Handler  # type: ignore[import-untyped]
from ansible.plugins.callback import CallbackBase  # type: ignore[import-untyped]

DOCUMENTATION = """
    name: nasops_events
    type: notification
    short_description: Write task starts, host results and the recap as JSON lines for nasops
    description:
      - One JSON object per line, flushed at once, so that nasops can follow a run as it goes.
      - Respects no_log; only the censored result reaches the file.
    requirements:
      - enable it in callbacks_enabled (ANSIBLE_CALLBACKS_ENABLED=nasops_events)
    options:
      events_file:
        description: File the events are appended to; the plugin does nothing when unset.
        env:
          - name: NASOPS_EVENTS_FILE
        type: path
      module_cache:
        description:
          - Directory kept between runs for the module payloads Ansible builds (AnsiballZ);
            the run's own payload cache is linked there (nasops.ansible.module_cache names it
            after everything a payload is built from).
        env:
          - name: NASOPS_MODULE_CACHE
        type: path
"""

# Text fields are cut so that one runaway module output cannot bloat the events file.
MAXIMUM_TEXT = 4000


def _text(value: Any) -> str:
    """Given any value from a result, return it as bounded text."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAXIMUM_TEXT else text[:MAXIMUM_TEXT] + " …"


def _warning_text(warning: Any) -> str:
    """Given a 2.19 WarningSummary (or an older plain string), return its message."""
    event = getattr(warning, "event", None)
    message = getattr(event, "msg", None)
    return _text(message if message is not None else warning)


def _changes(result: Mapping[str, Any]) -> tuple[list[dict[str, str]], int]:
    """Given a result (possibly a loop), return its `changes` entries and how many it left out.

    A relative target is joined to the result's absolute `path` (nasops.nas.tree reports folders
    relative to the share it converged), so every target names one place on the NAS.
    `changes_truncated` is the number of changes a module did not list.
    """
    found: list[dict[str, str]] = []
    unlisted = 0
    sources = [result] + [item for item in result.get("results") or [] if isinstance(item, dict)]
    for source in sources:
        base = source.get("path")
        base = base if isinstance(base, str) and base.startswith("/") else None
        for change in source.get("changes") or []:
            if not isinstance(change, dict) or "kind" not in change:
                continue
            entry = {key: _text(change.get(key, "")) for key in ("kind", "target", "detail")}
            if base and not entry["target"].startswith("/"):
                entry["target"] = posixpath.normpath(posixpath.join(base, entry["target"]))
            found.append(entry)
        truncated = source.get("changes_truncated")
        unlisted += truncated if isinstance(truncated, int) else 0
    return found, unlisted


def _message(result: Mapping[str, Any]) -> str:
    """Given a failed or unreachable result, return the most useful one-line reason."""
    if result.get("msg"):
        return _text(result["msg"])
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("failed") and item.get("msg"):
            return _text(item["msg"])
    if result.get("censored"):
        return "failed; its output is hidden by no_log"
    return _text(result.get("stderr") or result.get("stdout") or "")


def _link_payload_cache(directory: str) -> None:
    """Link the run's module payload cache (`ansiballz_cache` in the run's temporary
    directory, where ansible-core 2.19 builds payloads) to a directory kept between runs.

    Called before the first task. If the link cannot be made, or a later ansible-core looks
    elsewhere, the run builds its payloads itself, as Ansible always does. The run's cleanup
    removes the link, not what it points to (shutil.rmtree does not follow links).
    """
    link = os.path.join(constants.DEFAULT_LOCAL_TMP, "ansiballz_cache")
    try:
        if os.path.isdir(directory) and not os.path.lexists(link):
            os.symlink(directory, link)
    except OSError:
        pass


class CallbackModule(CallbackBase):  # type: ignore[misc]
    """Append one JSON object per event to the file named by NASOPS_EVENTS_FILE."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "nasops_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._stream: TextIO | None = None
        self._check_mode = False

    def set_options(self, task_keys: Any = None, var_options: Any = None,
                    direct: Any = None) -> None:
        """Open the events file named by the `events_file` option (NASOPS_EVENTS_FILE)."""
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        path = self.get_option("events_file")
        if path and self._stream is None:
            # Line-buffered so the reader sees each event as soon as it happens.
            self._stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            os.chmod(path, 0o600)
        cache = self.get_option("module_cache")
        if cache:
            _link_payload_cache(cache)

    def _write(self, event: str, **fields: Any) -> None:
        if self._stream is None:
            return
        record = {"event": event, "time": round(time.time(), 3), **fields}
        self._stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    @staticmethod
    def _task_fields(task: Any) -> dict[str, Any]:
        role = getattr(task, "_role", None)
        return {
            "role": role.get_name(include_role_fqcn=False) if role is not None else None,
            "task": task.name or task.action,
            "action": task.action,
            "handler": isinstance(task, Handler),
        }

    def v2_playbook_on_play_start(self, play: Any) -> None:
        """Record the play and whether the run is in check mode (--check)."""
        self._check_mode = bool(context.CLIARGS.get("check", False))
        self._write("play_start", play=play.get_name(), check_mode=self._check_mode)

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        """Freeze the objects of ansible-playbook before it forks the task's worker."""
        del task, is_conditional
        # A forked worker's garbage collector would visit (and so copy, page by page) every
        # object it inherits: frozen, they stay shared with the parent (issue 18: the
        # controller's memory; about a quarter less for the whole process tree).
        gc.freeze()

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        """Record that a task starts on a host."""
        self._write("task_start", host=host.get_name(), **self._task_fields(task))

    def _result(self, status: str, result: Any, **extra: Any) -> None:
        # `result.result` is the censored view: no_log results arrive without their data.
        data = result.result
        changes, unlisted = _changes(data)
        self._write(
            "result",
            host=result.host.get_name(),
            status=status,
            **self._task_fields(result.task),
            msg=_message(data) if status in ("failed", "unreachable") else
            _text(data.get("msg", "")),
            changes=changes,
            unlisted=unlisted,
            warnings=[_warning_text(warning) for warning in result.warnings],
            censored=bool(data.get("censored")),
            **extra,
        )

    def v2_runner_on_ok(self, result: Any) -> None:
        """Record an ok or changed result."""
        self._result("changed" if result.is_changed() else "ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        """Record a failed result, noting whether the task ignores errors."""
        self._result("failed", result, ignored=bool(ignore_errors))

    def v2_runner_on_skipped(self, result: Any) -> None:
        """Record a skipped result."""
        self._result("skipped", result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        """Record a host that could not be reached."""
        self._result("unreachable", result)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        """Record the recap (per host counters) and close the file."""
        hosts = {
            host: stats.summarize(host) for host in sorted(stats.processed.keys())
        }
        self._write("recap", hosts=hosts)
        if self._stream is not None:
            self._stream.close()
            self._stream = None

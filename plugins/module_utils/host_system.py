"""Steps of the nasops.nas.host module on the system: service accounts, systemd units, pruning.

systemd is asked once per list (`systemctl is-enabled a b c`), not once per unit: on a NAS
that already matches, a no-op costs two or three commands for all units of a role.
"""

from __future__ import annotations

import fnmatch
import glob
import grp
import os
import platform
import pwd
import shutil
import stat
import sys

from ansible_collections.nasops.nas.plugins.module_utils.host_files import Files, HostError

UNIT_DIRECTORY = "/etc/systemd/system"
# Pruning removes whole entries: only where nasops keeps software and unit files, never
# anywhere data could live.
PRUNABLE = (UNIT_DIRECTORY, "/opt/nasops/releases")


class System(Files):
    """Accounts, units, pruning and reactions, on top of the file steps."""

    def __init__(self, module: object) -> None:
        super().__init__(module)
        self.just_started: set[str] = set()

    def python(self) -> None:
        """Report the machine and the Python version running the module (the NAS's)."""
        self.result["python"] = {"machine": platform.machine(),
                                 "version": "{}.{}".format(*sys.version_info[:2])}

    def look(self, patterns: list[str], links: list[str]) -> None:
        """Report the paths that match the patterns and the targets of the links."""
        self.result["found"] = sorted({path for pattern in patterns
                                       for path in glob.glob(pattern)})
        targets: dict[str, str | None] = {}
        for path in links:
            try:
                targets[path] = os.readlink(path)
            except OSError:
                targets[path] = None
        self.result["link_targets"] = targets

    def account(self, spec: dict) -> None:
        """Create a system group and a system user of the same name (no login, no home)."""
        name = spec["name"]
        try:
            grp.getgrnam(name)
        except KeyError:
            self.note("account", name, "create system group")
            if not self.check:
                self.run(["groupadd", "--system", name])
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            self.note("account", name, "create system user")
            if not self.check:
                self.run(["useradd", "--system", "--gid", name, "--no-create-home",
                          "--home-dir", spec["home"], "--shell", spec["shell"],
                          "--comment", spec["comment"], name])
            return
        if user.pw_shell != spec["shell"]:
            self.note("account", name, f"shell {user.pw_shell} -> {spec['shell']}")
            if not self.check:
                self.run(["usermod", "--shell", spec["shell"], name])

    def prune(self, spec: dict) -> None:
        """Remove the entries of a software directory that match and are not kept; stop and
        disable unit files first."""
        directory = os.path.normpath(spec["directory"])
        if directory not in PRUNABLE:
            raise HostError(f"prune: {directory} is not one of {', '.join(PRUNABLE)}")
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            return
        keep = set(spec["keep"])
        for name in names:
            if name in keep or not any(fnmatch.fnmatchcase(name, pattern)
                                       for pattern in spec["patterns"]):
                continue
            path = os.path.join(directory, name)
            self.note("remove", path, "no longer wanted")
            if self.check:
                continue
            if directory == UNIT_DIRECTORY:
                # A unit that is not loaded is fine: the file goes anyway.
                self.run(["systemctl", "disable", "--now", name], accepted=(0, 1, 5))
            if stat.S_ISDIR(os.lstat(path).st_mode):
                # Only below PRUNABLE (checked above): an old release, never user data.
                shutil.rmtree(path)
            else:
                os.unlink(path)

    def daemon_reload(self) -> None:
        """Reload systemd when this call changed a unit file."""
        prefix = UNIT_DIRECTORY + "/"
        if any(path.startswith(prefix) for path in self.changed_paths) and not self.check:
            self.run(["systemctl", "daemon-reload"])

    def _states(self, query: str, units: list[str]) -> list[str]:
        """Given a systemctl query and units, return one answer word per unit."""
        _code, out = self.run(["systemctl", query, *units], accepted=tuple(range(256)))
        lines = out.splitlines()
        if len(lines) == len(units):
            return [line.strip() for line in lines]
        # systemctl may stop answering at a unit it does not know: ask one by one then.
        answers = []
        for unit in units:
            _code, out = self.run(["systemctl", query, unit], accepted=tuple(range(256)))
            answers.append(out.strip() or "unknown")
        return answers

    def started(self, units: list[str]) -> None:
        """Enable and start the units that are not both enabled and active."""
        if not units:
            return
        fresh = [unit for unit in units if f"{UNIT_DIRECTORY}/{unit}" in self.changed_paths
                 and not os.path.exists(f"{UNIT_DIRECTORY}/{unit}")]
        if self.check and fresh:  # systemd cannot answer for a unit not yet installed
            for unit in fresh:
                self.note("service", unit, "enable and start")
            units = [unit for unit in units if unit not in fresh]
            if not units:
                return
        enabled = self._states("is-enabled", units)
        active = self._states("is-active", units)
        wanted = [unit for unit, on, running in zip(units, enabled, active, strict=True)
                  if on not in ("enabled", "static", "alias") or running != "active"]
        for unit in wanted:
            self.note("service", unit, "enable and start")
        if wanted and not self.check:
            self.run(["systemctl", "enable", "--now", *wanted])
            self.just_started.update(wanted)

    def stopped(self, units: list[str]) -> None:
        """Stop and disable the units (shell patterns allowed) whose unit file exists and
        that are enabled or active."""
        present = sorted({os.path.basename(path) for unit in units
                          for path in glob.glob(f"{UNIT_DIRECTORY}/{unit}")})
        if not present:
            return
        enabled = self._states("is-enabled", present)
        active = self._states("is-active", present)
        wanted = [unit for unit, on, running in zip(present, enabled, active, strict=True)
                  if on == "enabled" or running in ("active", "activating")]
        for unit in wanted:
            self.note("service", unit, "stop and disable")
        if wanted and not self.check:
            self.run(["systemctl", "disable", "--now", *wanted])

    def react(self, reactions: list[dict]) -> None:
        """Restart or start units after a change to the paths they name (not in check mode,
        and not recorded as changes: they follow from changes already recorded)."""
        done = []
        for reaction in reactions:
            triggered = reaction["changed"] or any(
                path in self.changed_paths for path in reaction["paths"])
            if not triggered or (reaction["action"] == "restart"
                                 and reaction["unit"] in self.just_started):
                continue  # a unit started by this call already runs the new files
            done.append(f"{reaction['action']} {reaction['unit']}")
            if not self.check:
                blocking = [] if not reaction["no_block"] else ["--no-block"]
                self.run(["systemctl", reaction["action"], *blocking, reaction["unit"]])
        self.result["reactions"] = done

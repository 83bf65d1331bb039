"""Build, on the controller, the archive that installs the exporter on a NAS without network.

The NAS has python3 but no pip, no venv module and (often) no Internet access. The archive
holds a `lib/` directory to put on `sys.path`: the modules of the nasops package the
controller runs that the NAS-side commands import (not the spec, Ansible or lab code), and
the few libraries the exporter imports (pydantic, click, prometheus-client, bcrypt and their
dependencies) at the exact versions installed on the controller, so the NAS runs what was
tested here.

- Same machine and Python minor version on both sides (the lab, most Debian 12 NAS): the
  installed files are copied from the controller's environment (no network at all).
- Otherwise (an arm64 NAS, another Python): `pip download` fetches binary wheels of those
  versions for the NAS's platform, and they are unpacked.

The archive is reproducible (sorted entries, fixed times and owners), so its SHA-256 names a
release: the role installs `/opt/nasops/releases/<digest>` once and switches a symlink.

    python -m nasops.release.bundle --machine x86_64 --python 3.11 [--cache-directory DIR]

prints `{"archive": …, "digest": …, "nasops_version": …, "method": "copy"|"pip"}`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement  # a dependency of ansible-core

import nasops
from nasops.cache import controller_cache

# What the NAS runs: the exporter's commands, the root helper, the drift check, and
# `nasops-backup` (the nas_backup role installs its command on this same release) and the
# sync ACL keeper (nas_sync runs it with `python3 -m`).
ENTRY_MODULES = ("nasops.cli.exporter", "nasops.exporter.privileged",
                 "nasops.exporter.drift_check", "nasops.cli.backup", "nasops.sync.acl_keeper")
# The collection's module_utils they import (the tree engine, the ACL codec...): one home for
# what the NAS knows, shipped in the release as it is in the collection.
COLLECTION_PREFIX = "ansible_collections.nasops.nas."
# What they import beyond the standard library (a test checks the archive alone suffices).
EXPORTER_REQUIREMENTS = ("pydantic", "click", "prometheus-client", "bcrypt")
ARCHIVE_MTIME = 1_700_000_000  # fixed: the same content always gives the same archive
SKIPPED_PARTS = {"__pycache__"}


class BundleError(Exception):
    """The bundle cannot be built; the message says why."""


@dataclass(frozen=True)
class Target:
    """The NAS's interpreter: machine (uname -m) and Python major.minor."""

    machine: str
    python: str

    @classmethod
    def controller(cls) -> Target:
        """Return the interpreter running this code."""
        return cls(platform.machine(), f"{sys.version_info[0]}.{sys.version_info[1]}")


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def distribution_closure(roots: Iterable[str]) -> list[metadata.Distribution]:
    """Given distribution names, return them and their dependencies as installed here.

    Markers are evaluated for this interpreter (no extras). Raise BundleError if one is not
    installed.
    """
    found: dict[str, metadata.Distribution] = {}
    pending = [_canonical(root) for root in roots]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise BundleError(f"{name} is not installed on the controller") from None
        found[name] = distribution
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(_canonical(requirement.name))
    return [found[name] for name in sorted(found)]


def _copy_installed(distributions: Sequence[metadata.Distribution], library: Path) -> None:
    for distribution in distributions:
        for relative in distribution.files or []:
            parts = Path(str(relative)).parts
            if not parts or parts[0] == ".." or SKIPPED_PARTS & set(parts) \
                    or str(relative).endswith(".pyc"):
                continue  # console scripts live outside site-packages; bytecode is rebuilt
            source = Path(str(distribution.locate_file(relative)))
            destination = library / Path(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def _platform_tags(machine: str) -> list[str]:
    # manylinux wheels of these libraries, newest first; pure wheels match any platform.
    return [f"manylinux_2_{minor}_{machine}" for minor in (28, 17)] + [
        f"manylinux2014_{machine}"]


def _download_wheels(distributions: Sequence[metadata.Distribution], target: Target,
                     wheels: Path) -> None:
    pins = [f"{_canonical(item.metadata['Name'])}=={item.version}" for item in distributions]
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--implementation", "cp", "--python-version",
            target.python, "--dest", str(wheels)]
    for tag in _platform_tags(target.machine):
        argv += ["--platform", tag]
    completed = subprocess.run([*argv, *pins], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BundleError(f"pip download for Python {target.python} on {target.machine} "
                          f"failed: {completed.stderr.strip()[-1500:]}")


def _unpack_wheels(wheels: Path, library: Path) -> None:
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                parts = Path(member.filename).parts
                if member.is_dir() or ".." in parts or member.filename.startswith("/"):
                    continue
                if parts[0].endswith(".data"):
                    if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                        continue  # scripts, headers: not needed to import the library
                    parts = parts[2:]
                destination = library / Path(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(archive.read(member))
                mode = (member.external_attr >> 16) & 0o777
                if mode & 0o111:
                    destination.chmod(0o755)


def imported_files() -> dict[str, Path]:
    """Return {path in the bundle's library: source file} of the nasops modules and the
    nasops.nas collection's module_utils that the NAS-side entry points import.

    Found in a fresh interpreter, so that what this process imported does not count: the
    archive, hence its digest, changes only when code the NAS runs changes.
    """
    program = ("import json, sys\n"
               f"for name in {list(ENTRY_MODULES)!r}:\n"
               "    __import__(name)\n"
               "print(json.dumps(sorted([n, m.__file__] for n, m in list(sys.modules.items())\n"
               f"      if n.split('.')[0] == 'nasops' or n.startswith({COLLECTION_PREFIX!r})\n"
               "      if getattr(m, '__file__', None))))\n")
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                               check=False)
    if completed.returncode != 0:
        raise BundleError(f"cannot import the exporter's modules: {completed.stderr[-1500:]}")
    package = Path(nasops.__file__).resolve().parent
    files: dict[str, Path] = {}
    for name, file in json.loads(completed.stdout):
        source = Path(file).resolve()
        if name.split(".")[0] == "nasops":
            files["nasops/" + source.relative_to(package).as_posix()] = source
        else:
            # Namespace packages (ansible_collections, nasops, nas, plugins) have no file.
            module_path = name.replace(".", "/")
            files[module_path + ("/__init__.py" if source.name == "__init__.py" else ".py")] = (
                source)
    return files


def nasops_modules() -> list[str]:
    """Return the nasops files (relative to the package) the NAS-side entry points import."""
    return sorted(path.removeprefix("nasops/") for path in imported_files()
                  if path.startswith("nasops/"))


def _copy_nasops(library: Path) -> None:
    for relative, source in imported_files().items():
        destination = library / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


def write_reproducible_archive(root: Path, archive: Path) -> str:
    """Given a directory, write it as a reproducible .tar.gz; return the archive's SHA-256."""
    paths = sorted(root.rglob("*"), key=lambda path: path.relative_to(root).as_posix())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in paths:
            name = path.relative_to(root).as_posix()
            info = tarfile.TarInfo(name)
            info.mtime = ARCHIVE_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                info.size = len(data)
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    with archive.open("wb") as handle, gzip.GzipFile(fileobj=handle, mode="wb", mtime=0,
                                                    filename="") as compressed:
        compressed.write(raw)
    return hashlib.sha256(archive.read_bytes()).hexdigest()


def default_cache_directory() -> Path:
    """Return where archives are kept on the controller (XDG cache)."""
    return controller_cache("exporter-bundles")


def input_fingerprint(target: Target, method: str,
                      distributions: Sequence[metadata.Distribution]) -> str:
    """Return a digest of what the archive is built from: the target, the libraries'
    versions (and, when copied, their files' sizes and times) and every nasops source file.

    Every apply asks for the bundle; building it costs seconds, this a few milliseconds.
    A changed input only means a rebuild, whose content digest still names the release.
    """
    digest = hashlib.sha256(json.dumps([target.machine, target.python, method]).encode())

    def add(path: Path) -> None:
        try:
            info = path.stat()
        except OSError:
            digest.update(f"{path}:missing\n".encode())
            return
        digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())

    for distribution in distributions:
        digest.update(f"{distribution.metadata['Name']}=={distribution.version}\n".encode())
        if method == "copy":
            for relative in distribution.files or []:
                add(Path(str(distribution.locate_file(relative))))
    for path in sorted(Path(nasops.__file__).resolve().parent.rglob("*.py")):
        add(path)
    return digest.hexdigest()[:32]


def code_fingerprint() -> str:
    """Return a digest of the code any archive is built from (the libraries and nasops'
    sources), whatever the NAS: nasops.nas.converged's fingerprint of the role nas_release,
    which watches the NAS's python3 itself."""
    return input_fingerprint(Target("any", "any"), "copy",
                             distribution_closure(EXPORTER_REQUIREMENTS))


def _cached(record: Path) -> dict[str, str] | None:
    """Given a cache record, return the bundle it names if its archive is still there."""
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(known, dict) or not Path(str(known.get("archive"))).is_file():
        return None
    return {key: str(value) for key, value in known.items()}


def build_bundle(target: Target, cache_directory: Path | None = None) -> dict[str, str]:
    """Given the NAS's interpreter, build the archive (or find the one built from the same
    inputs); return archive path, digest, method."""
    cache = cache_directory or default_cache_directory()
    cache.mkdir(parents=True, exist_ok=True)
    distributions = distribution_closure(EXPORTER_REQUIREMENTS)
    method = "copy" if target == Target.controller() else "pip"
    record = cache / f"inputs-{input_fingerprint(target, method, distributions)}.json"
    known = _cached(record)
    if known is not None:
        return known
    with tempfile.TemporaryDirectory(dir=cache, prefix=".build-") as scratch:
        library = Path(scratch) / "root" / "lib"
        library.mkdir(parents=True)
        if method == "copy":
            _copy_installed(distributions, library)
        else:
            wheels = Path(scratch) / "wheels"
            wheels.mkdir()
            _download_wheels(distributions, target, wheels)
            _unpack_wheels(wheels, library)
        _copy_nasops(library)
        manifest = {"nasops": nasops.__version__, "machine": target.machine,
                    "python": target.python,
                    "libraries": {distribution.metadata["Name"]: distribution.version
                                  for distribution in distributions}}
        (library.parent / "bundle.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        built = Path(scratch) / "bundle.tar.gz"
        digest = write_reproducible_archive(library.parent, built)[:16]
        archive = cache / f"nasops-exporter-{digest}.tar.gz"
        if not archive.exists():
            os.replace(built, archive)  # same directory: atomic, concurrent builds agree
    result = {"archive": str(archive), "digest": digest, "nasops_version": nasops.__version__,
              "method": method}
    with tempfile.NamedTemporaryFile("w", dir=cache, prefix=".record-", delete=False,
                                     encoding="utf-8") as stream:
        json.dump(result, stream)
    os.replace(stream.name, record)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build the bundle and print its JSON description."""
    parser = argparse.ArgumentParser(prog="python -m nasops.release.bundle",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--machine", default=platform.machine(), help="NAS's `uname -m`")
    parser.add_argument("--python", default=Target.controller().python,
                        help="NAS's python3 major.minor, e.g. 3.11")
    parser.add_argument("--cache-directory", type=Path, default=None)
    arguments = parser.parse_args(argv)
    try:
        result = build_bundle(Target(arguments.machine, arguments.python),
                              arguments.cache_directory)
    except (BundleError, OSError) as error:
        print(f"cannot build the exporter bundle: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

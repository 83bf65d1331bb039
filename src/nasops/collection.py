"""Where the `nasops.nas` Ansible collection is: the roles, playbooks and plugins nasops runs.

An installed nasops (wheel) carries it as `site-packages/ansible_collections/nasops/nas`, where
ansible-playbook finds it too and Python imports its module_utils; a checkout is itself the
collection root (`scripts/setup` links it into the venv's site-packages the same way). The
environment variable NASOPS_ANSIBLE_DIR names another copy (a collection root) instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

from nasops.errors import PrerequisiteError

ANSIBLE_DIRECTORY_VARIABLE = "NASOPS_ANSIBLE_DIR"
COLLECTION_PACKAGE = "ansible_collections.nasops.nas"
COLLECTION_PARTS = ("ansible_collections", "nasops", "nas")
PLAYBOOK = Path("playbooks") / "site.yml"
# Where a collection root found outside an `ansible_collections/nasops/nas` path is linked
# from, so that Ansible (which finds collections only by that path) can load it.
LINKS_DIRECTORY = Path("~/.cache/nasops/collections")


def _is_collection(directory: Path) -> bool:
    return (directory / "galaxy.yml").is_file() and (directory / PLAYBOOK).is_file()


def collection_root(environment: Mapping[str, str] | None = None) -> Path:
    """Given the environment (default os.environ), return the collection's root directory.

    Raise PrerequisiteError saying how to set NASOPS_ANSIBLE_DIR when it cannot be found.
    """
    environment = os.environ if environment is None else environment
    configured = environment.get(ANSIBLE_DIRECTORY_VARIABLE)
    if configured:
        root = Path(configured).expanduser().resolve()
        if not (root / PLAYBOOK).is_file():
            raise PrerequisiteError(f"{ANSIBLE_DIRECTORY_VARIABLE}={configured}: no {PLAYBOOK} "
                                    "there; it must be the nasops.nas collection's root")
        return root
    # src/nasops/collection.py in a checkout: the checkout is the collection.
    checkout = Path(__file__).resolve().parents[2]
    if _is_collection(checkout):
        return checkout
    try:
        spec = importlib.util.find_spec(COLLECTION_PACKAGE)
    except ImportError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if _is_collection(Path(location)):
            return Path(location).resolve()
    raise PrerequisiteError(
        "cannot find the nasops.nas collection (roles and playbooks): install nasops from its "
        f"wheel, run it from a checkout, or set {ANSIBLE_DIRECTORY_VARIABLE} to the collection's "
        "root")


def collections_path(root: Path) -> Path:
    """Given the collection root, return a directory holding `ansible_collections/nasops/nas`
    that is that root (a link made once under ~/.cache when the root lies elsewhere)."""
    if tuple(part for part in root.parts[-3:]) == COLLECTION_PARTS:
        return root.parents[2]
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    base = LINKS_DIRECTORY.expanduser() / digest
    link = base.joinpath(*COLLECTION_PARTS)
    if link.is_symlink() and Path(os.readlink(link)) == root:
        return base
    staging = link.with_name(f".nas.{os.getpid()}")
    try:
        link.parent.mkdir(parents=True, exist_ok=True)
        staging.unlink(missing_ok=True)
        staging.symlink_to(root, target_is_directory=True)
        os.replace(staging, link)  # atomic: a concurrent run sees the old link or the new one
    except OSError as error:
        raise PrerequisiteError(
            f"{link}: cannot link the nasops.nas collection there for Ansible "
            f"({error.strerror or error}); make ~/.cache writable, or install nasops from its "
            "wheel (no link needed)") from None
    return base

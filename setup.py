"""What goes into the nasops wheel besides the `nasops` package (pyproject.toml has the rest).

The repository root is also the `nasops.nas` Ansible collection. The wheel carries it as
`ansible_collections/nasops/nas/` (mapped from the root), where ansible-playbook and Python's
import system find an installed collection, and the alert rules and dashboard as starter files
under `nasops/data/monitoring/`. pyproject.toml cannot map a package to the root next to a
`find` of `src/`, hence this file.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

COLLECTION = "ansible_collections.nasops.nas"
MONITORING = "nasops.data.monitoring"


class BuildPy(build_py):
    """Takes no Python module from the root itself (this file): the collection's code is under
    plugins/, shipped as package data."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        if package == COLLECTION:
            return []
        return list(super().find_package_modules(package, package_dir))


setup(
    cmdclass={"build_py": BuildPy},
    packages=[*find_packages("src"), COLLECTION, MONITORING],
    package_dir={"": "src", COLLECTION: ".", MONITORING: "monitoring"},
    package_data={
        "nasops": ["py.typed", "data/*", "data/**/*"],
        # Only what the collection ships (galaxy.yml's build_ignore keeps the same things out
        # of `ansible-galaxy collection build`): no src/, tests/, docs/ or tooling.
        COLLECTION: ["galaxy.yml", "ansible.cfg", "README.md", "LICENSE", "meta/*",
                     "plugins/**/*.py", "plugins/**/py.typed", "roles/**/*", "playbooks/**/*"],
        MONITORING: ["*.rules.yml", "grafana/*.json"],
    },
    # Only the files named above (not whatever an sdist manifest would sweep in).
    include_package_data=False,
    exclude_package_data={"": ["*/__pycache__/*", "*.pyc"]},
)

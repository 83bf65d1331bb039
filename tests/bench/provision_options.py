"""The command line of tests/bench/bench_provision.py."""

from __future__ import annotations

import argparse
from pathlib import Path

from provision_per_item import DEFAULT_VENV

RESULTS = Path(__file__).resolve().parent / "results"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """Given `2000x100000,6000x300000`, return [(folders, files), …]."""
    sizes = []
    for item in text.split(","):
        folders, separator, files = item.strip().lower().partition("x")
        if not separator or not folders.isdigit() or not files.isdigit():
            raise argparse.ArgumentTypeError(f"{item!r}: expected FOLDERSxFILES, e.g. 2000x100000")
        sizes.append((int(folders), int(files)))
    return sizes


def parser(description: str) -> argparse.ArgumentParser:
    """Return the command line's parser."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", type=parse_sizes,
                        help="FOLDERSxFILES[,…]: run each on its own host, e.g. "
                             "2000x100000,6000x300000 (default: --folders x --files)")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3,
                        help="no-op applies, tree walks and getfacl runs")
    parser.add_argument("--name", default="bench-provision")
    parser.add_argument("--address", default="127.0.0.22")
    parser.add_argument("--volume-size", default="8G")
    parser.add_argument("--other-release", default="trixie",
                        help="also time the no-op apply and the walk on a lab NAS of this "
                             "Debian release, same spec and tree, same run ('' to skip)")
    parser.add_argument("--other-name", default="bench-provision-2")
    parser.add_argument("--other-address", default="127.0.0.23")
    parser.add_argument("--per-item-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--per-item-budget", type=float, default=25.0,
                        help="minutes; above, a subset is run and extrapolated")
    parser.add_argument("--per-item-fraction", type=float, default=0.10,
                        help="largest share of the folders in the subset")
    parser.add_argument("--per-item-calibration", type=float, default=0.01,
                        help="share of the folders timed first, to estimate the full run")
    parser.add_argument("--per-item-max-folders", type=int, default=2000,
                        help="run the per-item playbook only at sizes up to this many folders")
    parser.add_argument("--skip-per-item", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "provision.json")
    parser.add_argument("--no-output", action="store_true")
    parser.add_argument("--keep-host", action="store_true")
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=DIR",
                        type=lambda text: tuple(text.split("=", 1)),
                        help="at the end, also time no-op applies with this Ansible directory "
                             "(NASOPS_ANSIBLE_DIR) on the same host and tree; repeatable")
    parser.add_argument("--ansible-dir", type=Path,
                        help="run nasops with another ansible.cfg/playbooks/roles directory "
                             "(NASOPS_ANSIBLE_DIR), e.g. to time some roles only")
    parser.add_argument("--note", action="append", default=[],
                        help="a caveat to add to the report, e.g. why --ansible-dir; repeatable")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only write the Markdown report of these results beside them "
                             "(with --note added to their notes)")
    return parser

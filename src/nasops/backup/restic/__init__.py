"""Argument builders for restic: one module per subcommand, pure functions, no I/O.

Each builder returns a tuple of strings. The repository and its password never appear here:
they reach restic through the environment (`RESTIC_REPOSITORY`, `RESTIC_PASSWORD_FILE`).
"""

"""Backup policy: what to run, in which order, what counts as success, what is recorded."""

"""Spec -> desired state: flat, resolved data the Ansible roles and modules receive."""

from nasops.compile.desired import compile_spec

__all__ = ["compile_spec"]

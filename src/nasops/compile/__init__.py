"""Spec -> desired state: flat, resolved data the Ansible roles and modules receive."""

from nasops.compile.contract import DesiredState, desired_fingerprint
from nasops.compile.desired import compile_desired, compile_spec

__all__ = ["DesiredState", "compile_desired", "compile_spec", "desired_fingerprint"]

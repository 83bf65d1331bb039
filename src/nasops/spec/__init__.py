"""The spec: models, YAML loading with line numbers, cross-checks, rights resolution."""

from nasops.spec.load import LoadedSpec, load_spec, load_spec_text
from nasops.spec.models import Spec

__all__ = ["LoadedSpec", "Spec", "load_spec", "load_spec_text"]

"""nasops: provision and operate a small organisation's NAS from one YAML spec."""

__version__ = "0.1.0"

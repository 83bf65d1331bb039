"""Monitoring from the controller: Prometheus targets for every NAS of an inventory."""

"""Synchronisation with laptops (Syncthing): the rights model that compile uses, and status."""

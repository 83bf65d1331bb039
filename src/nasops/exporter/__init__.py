"""The Prometheus exporter that runs on each NAS.

One collector class per source (quota, sync, backup, drift, samba) builds metric families on
a dedicated registry. Sources that are expensive to read (btrfs, Syncthing, smbstatus, the
usage walk) are refreshed by background threads; a scrape only reads their cached snapshot.
"""

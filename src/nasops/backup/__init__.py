"""Backups on the NAS with restic, wrapped by `nasops backup`.

`restic/` only builds argument tuples (one module per restic subcommand), `parse` reads
restic's output, `session` runs restic for one repository (secrets, locks, error mapping),
`actions/` hold the policy (run, check, drill, restore…) and `status` keeps one status file
per repository that the exporter reads.
"""

"""The nasops release: the archive of code the NAS runs, built on the controller."""

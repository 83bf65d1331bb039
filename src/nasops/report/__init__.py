"""Reports for people: the access report (who can read or change what)."""

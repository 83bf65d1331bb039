"""The QNAP QTS platform (issue 15, docs/qts.md): read-only so far.

session (pinned TLS, one login) -> facts (the read-only requests) -> answers (parsed XML);
probe, plan (the control plane's differences), capture (redacted recordings), commands
(running them on inventory hosts); share_rights (what each person's share right should be).
"""

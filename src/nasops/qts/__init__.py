"""The QNAP QTS platform (issue 15, docs/qts.md): what is built of it so far."""

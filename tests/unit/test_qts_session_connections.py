"""The QTS session's kept connection (nasops.qts.session): closed whatever stops a request."""

from __future__ import annotations

from typing import Any

import pytest

from nasops.ansible.runner import RunInterrupted
from nasops.qts.session import Endpoint, QtsConnectionError, QtsSession


class FakeConnection:
    """Stands for http.client.HTTPSConnection; its answer is whatever `answer` does."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.closed = False

    def request(self, *arguments: object) -> None:
        del arguments

    def getresponse(self) -> Any:
        return self.answer()

    def close(self) -> None:
        self.closed = True


def _interrupted() -> None:
    raise RunInterrupted(15)


def _cut() -> None:
    raise ConnectionResetError(104, "Connection reset by peer")


@pytest.mark.parametrize(("answer", "raised"), [(_interrupted, RunInterrupted),
                                                (_cut, QtsConnectionError)])
def test_a_request_stopped_before_its_answer_closes_its_connection(
        monkeypatch: pytest.MonkeyPatch, answer: Any, raised: type[Exception]) -> None:
    connection = FakeConnection(answer)
    # No NAS: what is tested is the session's handling of its connection, whatever stops it.
    monkeypatch.setattr(QtsSession, "_connect", lambda self: connection)
    nas = QtsSession(Endpoint("127.0.0.1", 443, "0" * 64, "admin"))
    with pytest.raises(raised):
        nas.login("not-a-real-password")
    assert connection.closed and nas._kept is None

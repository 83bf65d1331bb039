"""A handout read back from its HTML as a person reads it: its folder lists, login, the
NAS's device ID and the folders the laptop section lists with the type to set (unit tests of
the guide and the sync lab, where a person follows the handout)."""

from __future__ import annotations

from html.parser import HTMLParser


class HandoutReading(HTMLParser):
    """Collects a handout's folder lists and its login, as a reader would find them."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[str, list[str]] = {"change": [], "read": [], "through": []}
        self.login: str | None = None
        self.device_id: str | None = None
        self.language: str | None = None
        self._section: str | None = None
        self.text: list[str] = []
        self.laptop: list[tuple[str, str]] = []
        """(folder label, folder type to set) as the laptop section lists them."""
        self._laptop_type: str | None = None
        self._label: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.language = values.get("lang")
        if tag == "ul" and "folders" in (values.get("class") or ""):
            self._section = (values.get("class") or "").split()[1]
        if tag == "li" and values.get("data-folder-type"):
            self._laptop_type = values["data-folder-type"]
        if tag == "strong" and self._laptop_type:
            self._label = []
        if tag == "li" and self._section and values.get("data-folder") is not None:
            self.lists[self._section].append(values["data-folder"] or "")
        if tag == "code" and values.get("data-login"):
            self.login = values["data-login"]
        if values.get("data-device-id"):
            self.device_id = values["data-device-id"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._section = None
        if tag == "strong" and self._label is not None and self._laptop_type:
            self.laptop.append(("".join(self._label), self._laptop_type))
            self._label = self._laptop_type = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._label is not None:
            self._label.append(data)


def read_handout(page: str) -> HandoutReading:
    """Given a handout's HTML, return what a reader finds in it."""
    parser = HandoutReading()
    parser.feed(page)
    return parser

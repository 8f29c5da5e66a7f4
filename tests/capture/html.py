"""Reading the capture pages as HTML elements, so tests assert on tags and attributes rather than on text."""

from __future__ import annotations

from html.parser import HTMLParser


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(page: str, tag: str, **attrs: str) -> list[dict[str, str | None]]:
    """The attributes of every ``tag`` element whose attributes include ``attrs`` (``aria_invalid`` for
    ``aria-invalid``)."""
    parser = _Elements()
    parser.feed(page)
    wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
    return [
        found
        for name, found in parser.found
        if name == tag and all(found.get(k) == v for k, v in wanted.items())
    ]


def element(page: str, tag: str, **attrs: str) -> dict[str, str | None]:
    """The one ``tag`` element with ``attrs``; fails when there is none or more than one."""
    matches = elements(page, tag, **attrs)
    assert len(matches) == 1, f"{len(matches)} <{tag}> elements with {attrs}"
    return matches[0]


def input_value(page: str, name: str) -> str:
    """The value of the hidden or text input called ``name``."""
    return element(page, "input", name=name).get("value") or ""

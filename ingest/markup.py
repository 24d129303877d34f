"""Reading saved or fetched web pages: decoding, parsing with BeautifulSoup, and visible text.

Shared by the widget and WordPress parsers. Pages are untrusted: nothing here executes or follows
anything; text is taken from text nodes only (never from scripts, styles or comments).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import IO

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from errors import ParseError
from ingest.text import decode_document

MAX_PAGE_BYTES = 20 * 1024 * 1024
MAX_TEMPLATE_DEPTH = 3
_BLOCKS = {"p", "div", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "tr"}
_SKIP = {"script", "style", "template", "noscript", "svg", "button"}


def read_page(fp: IO[bytes], *, file: str, charset: str | None = None) -> BeautifulSoup:
    """Parse an HTML page given as bytes (encoding from BOM, `charset`, <meta>, else detected)."""
    data = fp.read(MAX_PAGE_BYTES + 1)
    if len(data) > MAX_PAGE_BYTES:
        raise ParseError(f"page is larger than {MAX_PAGE_BYTES} bytes", file=file)
    if not data.strip():
        raise ParseError("the file is empty", file=file)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError("binary data, not an HTML page", file=file)
    return BeautifulSoup(decode_document(data, charset), "html.parser")


def iter_roots(soup: BeautifulSoup | Tag, depth: int = 0) -> Iterator[BeautifulSoup | Tag]:
    """The page itself, then the content of every <template> (parsed on its own).

    CSS selection does not look inside <template> (as in a browser), yet review widgets ship their
    markup there for a script to clone; `<script type="text/template">` holds it as text.
    """
    yield soup
    if depth >= MAX_TEMPLATE_DEPTH:
        return
    holders = soup.find_all("template") + soup.find_all(
        "script", attrs={"type": ["text/template", "text/html", "text/x-template"]}
    )
    for holder in holders:
        if holder.find_parent("template") is not None:
            continue  # reached when the enclosing template is parsed on its own
        inner = holder.decode_contents() if holder.name == "template" else holder.get_text()
        if "<" in inner:
            yield from iter_roots(BeautifulSoup(inner, "html.parser"), depth + 1)


def element_text(element: Tag, *, drop: tuple[str, ...] = ()) -> str:
    """The visible text of `element`: <br> and block ends become line breaks; `drop` selectors removed."""
    element = copy.copy(element)
    for selector in drop:
        for found in element.select(selector):
            found.decompose()
    parts: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a CData, doctype or processing instruction
                    parts.append(str(child))
                continue
            if not isinstance(child, Tag) or child.name in _SKIP:
                continue
            if child.name == "br":
                parts.append("\n")
                continue
            block = child.name in _BLOCKS
            if block:
                parts.append("\n")
            walk(child)
            if block:
                parts.append("\n")

    walk(element)
    return "".join(parts)


def has_class(element: Tag, name: str) -> bool:
    classes = element.get("class") or []
    return name in classes


def first(element: Tag, selector: str) -> Tag | None:
    return element.select_one(selector)


def short_text(element: Tag | None) -> str | None:
    """Whitespace-folded text of a small element such as a name or date, or None."""
    if element is None:
        return None
    text = " ".join(element_text(element).split())
    return text or None

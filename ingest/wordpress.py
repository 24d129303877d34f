"""WordPress comments on the practice's own pages, read from the page's HTML.

Each `li.comment` is a comment: author in `.fn`, time in `time[datetime]` (or the dated link of the
classic markup), text in `.comment-content`. Replies sit in `ol.children` of their parent. A reply
written by the practice (WordPress marks comments of the post's author with `bypostauthor`; the
source's `owner_names` add other staff accounts) is stored as the owner reply of the comment it
answers, not as a comment of its own; other replies are comments of their own (their parent is kept
in `raw`). The practice's own top-level comments are not patient feedback and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import IO

from bs4 import Tag

from errors import ParseError
from ingest.markup import element_text, has_class, read_page, short_text
from ingest.model import Review
from ingest.text import clean_text, parse_timestamp

_COMMENT_ID = re.compile(r"^(?:li-)?comment-(\d+)$")
_RATED = re.compile(r"rated\s+(\d(?:[.,]\d+)?)\s+out of\s+5", re.I)
_THREADS = ("ol.children", "ul.children")


@dataclass
class _Comment:
    comment_id: str
    parent_id: str | None
    author: str | None
    is_owner: bool
    created_at: datetime | None
    text: str | None
    rating: int | None
    position: int


def _own_body(li: Tag) -> Tag:
    """The part of `li` that is this comment, without the replies nested below it."""
    for child in li.find_all(True, recursive=False):
        if child.name in ("ol", "ul") and has_class(child, "children"):
            continue
        if child.name in ("article", "div"):
            return child
    return li


def _comment_id(li: Tag, body: Tag, position: int) -> str:
    for candidate in (li.get("id"), body.get("id", "").removeprefix("div-")):
        if candidate and (match := _COMMENT_ID.match(candidate)):
            return match.group(1)
    return f"pos{position}"  # no id in the markup: the position on the page is the best we have


def _created(body: Tag, tz: tzinfo, where: str, file: str) -> datetime | None:
    stamp = body.select_one("time[datetime]")
    value = stamp.get("datetime") if stamp is not None else None
    if value is None:
        link = body.select_one(".comment-meta a, .commentmetadata a, .comment-metadata a")
        value = short_text(link)
        if value:
            value = value.replace(" at ", " ")  # "November 5, 2023 at 2:02 pm"
    if not value:
        return None
    try:
        return parse_timestamp(value, tz=tz)
    except ValueError as exc:
        raise ParseError(str(exc), file=file, where=where) from None


def _text(body: Tag) -> str | None:
    content = body.select_one(".comment-content")
    if content is None:  # the classic markup: paragraphs directly in the comment's div
        paragraphs = [p for p in body.find_all("p", recursive=False)]
        return clean_text("\n\n".join(element_text(p) for p in paragraphs)) if paragraphs else None
    return clean_text(element_text(content, drop=(".reply", ".comment-reply-link")))


def _rating(body: Tag) -> int | None:
    marker = body.select_one("[aria-label*='out of 5'], .star-rating")
    if marker is None:
        return None
    match = _RATED.search(marker.get("aria-label") or "") or _RATED.search(" ".join(marker.get_text().split()))
    if not match:
        return None
    value = round(float(match.group(1).replace(",", ".")))
    return value if 1 <= value <= 5 else None


def _read_comments(items: Iterable[Tag], tz: tzinfo, owners: set[str], file: str) -> list[_Comment]:
    comments = []
    for position, li in enumerate(items):
        body = _own_body(li)
        comment_id = _comment_id(li, body, position)
        parent = li.find_parent("li", class_="comment")
        parent_id = _comment_id(parent, _own_body(parent), -1) if parent is not None else None
        author = clean_text(short_text(body.select_one(".fn")))
        is_owner = has_class(li, "bypostauthor") or (author is not None and author.casefold() in owners)
        comments.append(
            _Comment(
                comment_id=comment_id,
                parent_id=parent_id,
                author=author,
                is_owner=is_owner,
                created_at=_created(body, tz, f"comment {comment_id}", file),
                text=_text(body),
                rating=_rating(body),
                position=position,
            )
        )
    return comments


def iter_reviews(
    fp: IO[bytes],
    *,
    file: str,
    tz: tzinfo = timezone.utc,
    owner_names: Iterable[str] = (),
    charset: str | None = None,
) -> Iterator[Review]:
    """The patients' comments of a WordPress page, with the practice's replies as owner replies."""
    soup = read_page(fp, file=file, charset=charset)
    items = [li for li in soup.select("li.comment") if not has_class(li, "pingback") and not has_class(li, "trackback")]
    if not items and soup.select_one("#comments, .comments-area, #respond, .comment-respond, .comment-list, .commentlist") is None:
        raise ParseError("no WordPress comments section found (li.comment, #comments or #respond)", file=file)
    owners = {name.casefold() for name in owner_names}
    comments = _read_comments(items, tz, owners, file)
    by_id = {c.comment_id: c for c in comments}
    replies: dict[str, _Comment] = {}
    for comment in sorted(comments, key=lambda c: (c.created_at or datetime.max.replace(tzinfo=timezone.utc), c.position)):
        parent = by_id.get(comment.parent_id) if comment.parent_id else None
        if comment.is_owner and parent is not None and not parent.is_owner and parent.comment_id not in replies:
            replies[parent.comment_id] = comment  # the first answer by the practice is its reply
    for comment in comments:
        if comment.is_owner:
            continue
        reply = replies.get(comment.comment_id)
        if comment.text is None and comment.rating is None:
            continue
        yield Review(
            source_review_id=None if comment.comment_id.startswith("pos") else comment.comment_id,
            text=comment.text,
            rating=comment.rating,
            author=comment.author,
            created_at=comment.created_at,
            updated_at=comment.created_at,
            reply_text=reply.text if reply else None,
            reply_at=reply.created_at if reply else None,
            raw={
                "comment_id": comment.comment_id,
                "parent_id": comment.parent_id,
                "reply_comment_id": reply.comment_id if reply else None,
            },
        )

"""Review widgets on a practice's own web pages: Trustindex, the Google Reviews Widget, schema.org.

Recognised markup:

- Trustindex "Widgets for Google Reviews": `.ti-review-item` cards (also inside `<template>`), with
  `.ti-name`, the `data-time` attribute or `.ti-date`, stars as `.ti-star.f` spans or `star/f.svg`
  images (or `data-rating`), text in `.ti-review-content`; rating-only cards have no text. Summary:
  "Based on N reviews" in the widget footer.
- The Google Reviews Widget (`.wp-gr`, by RichPlugins): `.wp-google-review` / `.grw-review` cards
  with `.wp-google-name`, `.wp-google-time[data-time]` (shown as "15:34 30 Jun 22"), stars, and
  `.wp-google-text` whose long texts are clamped as `visible<span>... </span><span class="wp-more">
  hidden</span><span class="wp-more-toggle">read more</span>`; the clamp markers are removed and the
  hidden part kept. Owner replies in `.wp-google-reply`. Summary: rating and "Based on N reviews".
- schema.org `Review` items as JSON-LD or microdata, and `AggregateRating` of a business. They are
  used only when no widget markup is found, since widgets often mark the same reviews up twice.

A page with none of these is an error (a site redesign must not look like "no new reviews").
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone, tzinfo
from typing import IO, Any

from bs4 import BeautifulSoup, Tag

from errors import ParseError
from ingest.markup import element_text, iter_roots, read_page, short_text
from ingest.model import Review
from ingest.summaries import Summary
from ingest.text import clean_text, parse_timestamp

log = logging.getLogger("reviewpulse.widgets")

_BASED_ON = re.compile(r"(?:based on|basierend auf|sur la base de|basado en)\s*([\d][\d.,\s\u202f\u00a0]*)\s*(?:reviews|review|bewertungen|avis|reseñas)", re.I)
_REVIEW_COUNT = re.compile(r"([\d][\d.,\u202f\u00a0]*)\s*(?:reviews|review)\b", re.I)
_DECIMAL = re.compile(r"^\s*(\d(?:[.,]\d+)?)\s*$")
_CSS_RATING = re.compile(r"--rating\s*:\s*([\d.]+)")
_WIDGET_TIME = "%H:%M %d %b %y"  # the Google Reviews Widget prints gmdate("H:i d M y")
# Types whose aggregateRating rates an article or page, not the practice (e.g. a star-rating plugin).
_CREATIVE_WORKS = {
    "creativework", "creativeworkseries", "article", "blogposting", "newsarticle", "webpage", "website",
    "medicalwebpage", "faqpage", "howto", "recipe", "book", "movie", "videoobject", "course", "socialmediaposting",
}


@dataclass
class Page:
    reviews: list[Review] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)


# --- small readers ----------------------------------------------------------------------------


def _count(text: str) -> int | None:
    digits = re.sub(r"[^\d]", "", text)
    return int(digits) if digits else None


def _average(text: str | None) -> float | None:
    if not text or not (match := _DECIMAL.match(text)):
        return None
    value = float(match.group(1).replace(",", "."))
    return value if 0 < value <= 5 else None


def _unix_time(value: str | None) -> datetime | None:
    if not value or not value.strip().isdigit():
        return None
    seconds = int(value.strip())
    if seconds > 9_999_999_999:  # milliseconds
        seconds //= 1000
    return datetime.fromtimestamp(seconds, tz=timezone.utc) if seconds > 0 else None


def _shown_date(text: str | None, tz: tzinfo) -> datetime | None:
    """A date as a widget prints it; None for relative dates ("3 weeks ago") or unreadable ones."""
    if not text or re.search(r"\bago\b|\bvor\b|\bil y a\b|\bhace\b", text, re.I):
        return None
    try:
        return datetime.strptime(text.strip(), _WIDGET_TIME).replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    try:
        return parse_timestamp(text, tz=tz)
    except ValueError:
        return None


def _whole_stars(value: float | None) -> int | None:
    if value is None or not math.isfinite(value):
        return None
    stars = int(value + 0.5)  # half stars round up, as Google shows them
    return stars if 1 <= stars <= 5 else None


def _rating_attr(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


# --- Trustindex -------------------------------------------------------------------------------


def _trustindex_stars(item: Tag) -> int | None:
    if (value := _rating_attr(item.get("data-rating"))) is not None:
        return _whole_stars(value)
    total = 0.0
    found = False
    for star in item.select(".ti-stars .ti-star, .ti-star"):
        if star.find_parent(class_="ti-review-content"):
            continue
        found = True
        classes = star.get("class") or []
        src = star.get("src") or ""
        if "f" in classes or src.endswith("/f.svg"):
            total += 1
        elif "h" in classes or src.endswith("/h.svg"):
            total += 0.5
    return _whole_stars(total) if found and total else None


def _trustindex_review(item: Tag, tz: tzinfo, index: int) -> Review:
    author = clean_text(short_text(item.select_one(".ti-name")))
    date_text = short_text(item.select_one(".ti-date"))
    created = _unix_time(item.get("data-time")) or _shown_date(date_text, tz)
    content = item.select_one(".ti-review-content") or item.select_one(".ti-review-text-container")
    text = None
    if content is not None and item.get("data-empty") != "1":
        text = clean_text(element_text(content, drop=(".ti-review-image", ".ti-read-more", ".ti-reply-by-owner")))
    platform = next((c.removeprefix("source-") for c in item.get("class") or [] if c.startswith("source-")), None)
    return Review(
        source_review_id=None,
        text=text,
        rating=_trustindex_stars(item),
        author=author,
        created_at=created,
        updated_at=created,
        raw={
            "widget": "trustindex",
            "index": index,
            "platform": platform,
            "data_id": item.get("data-id"),
            "date_shown": date_text,
        },
    )


def _trustindex_summary(widget: Tag, listed: int) -> Summary | None:
    text = " ".join(element_text(widget.select_one(".ti-footer") or widget).split())
    match = _BASED_ON.search(text)
    count = _count(match.group(1)) if match else None
    average = None
    for candidate in widget.select(".ti-rating, .ti-rating-large, [class*='ti-rating-value']"):
        average = _average(short_text(candidate))
        if average is not None:
            break
    if count is None and average is None:
        return None
    name = short_text(widget.select_one(".ti-name-big, .ti-header .ti-name, .ti-profile-name"))
    return Summary("trustindex", name, count, average, listed)


# --- the Google Reviews Widget (RichPlugins) ------------------------------------------------


def _grw_stars(feedback: Tag | None) -> int | None:
    if feedback is None:
        return None
    styled = feedback.select_one("[style*='--rating']")
    if styled is not None and (match := _CSS_RATING.search(styled.get("style", ""))):
        return _whole_stars(float(match.group(1)))
    total = 0.0
    stars = feedback.select(".wp-star")
    for star in stars:
        use = star.select_one("use")
        ref = (use.get("xlink:href") or use.get("href") or "") if use is not None else ""
        path = star.select_one("path")
        shape = (path.get("d") or "")[:9] if path is not None else ""
        fill = (path.get("fill") or "").lower() if path is not None else ""
        if ref.endswith("#rp-star") or (shape == "M1728 647" and fill not in ("#ccc", "#cccccc")):
            total += 1
        elif ref.endswith("-half") or shape == "M1250 957":
            total += 0.5
    return _whole_stars(total) if stars and total else None


def _grw_text(span: Tag | None) -> str | None:
    if span is None:
        return None
    span = BeautifulSoup(str(span), "html.parser").find()  # a private copy to edit
    for toggle in span.select(".wp-more-toggle"):
        toggle.decompose()
    for hidden in span.select(".wp-more"):
        marker = hidden.find_previous_sibling()
        if marker is not None and marker.name == "span" and not marker.get("class") and marker.get_text().strip() in ("...", "…"):
            marker.decompose()  # the "... " shown in place of the hidden rest
        hidden.unwrap()
    return clean_text(element_text(span), clamped=True)


def _grw_author(name: str | None) -> str | None:
    name = clean_text(name)
    return None if name == "Google User" else name  # the widget's stand-in for a reviewer without a name


def _grw_review(item: Tag, tz: tzinfo, index: int) -> Review:
    reply_box = item.select_one(".wp-google-reply")
    if reply_box is not None:
        reply_box = reply_box.extract()
    times = item.select(".wp-google-time")
    date_text = short_text(times[0]) if times else None
    created = (_unix_time(times[0].get("data-time")) if times else None) or _shown_date(date_text, tz)
    feedback = item.select_one(".wp-google-feedback") or item
    stars = _grw_stars(item.select_one(".wp-google-stars")) or _grw_stars(item)
    reply_text = reply_at = None
    if reply_box is not None:
        reply_time = reply_box.select_one(".wp-google-time")
        reply_at = _unix_time(reply_time.get("data-time")) if reply_time is not None else None
        reply_text = clean_text(element_text(reply_box, drop=(".grw-b", ".wp-google-time")))
    return Review(
        source_review_id=None,
        text=_grw_text(feedback.select_one(".wp-google-text")),
        rating=stars,
        author=_grw_author(short_text(item.select_one(".wp-google-name"))),
        created_at=created,
        updated_at=created,
        reply_text=reply_text,
        reply_at=reply_at if reply_text else None,
        raw={"widget": "google_reviews_widget", "index": index, "date_shown": date_text},
    )


def _grw_summary(widget: Tag, listed: int) -> Summary | None:
    header = widget.select_one(".wp-google-place, .grw-header") or widget
    text = " ".join(element_text(header).split())
    match = _BASED_ON.search(text)
    count = _count(match.group(1)) if match else None
    if count is None and (meta := header.select_one("meta[itemprop='ratingCount'], meta[itemprop='reviewCount']")):
        count = _count(meta.get("content") or "")
    average = _average(short_text(header.select_one(".wp-google-rating")))
    if average is None and (stars := header.select_one(".rpi-stars")) is not None:
        average = _average(short_text(stars))
        if average is None and (m := _CSS_RATING.search(stars.get("style", ""))):
            average = _average(m.group(1))
    if count is None and average is None:
        return None
    name = short_text(header.select_one(".wp-google-name"))
    return Summary("google_reviews_widget", name, count, average, listed)


# --- schema.org: JSON-LD and microdata ------------------------------------------------------


def _types(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {str(t).rsplit("/", 1)[-1].lower() for t in items if t}


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return clean_text(str(value)) if value not in (None, "") else None


def _jsonld_text(value: Any) -> str | None:
    """A text property as a string; third-party markup sometimes nests an object there instead."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def _scaled_rating(value: Any, best: Any) -> int | None:
    try:
        number = float(str(value).replace(",", "."))
        top = float(str(best).replace(",", ".")) if best not in (None, "") else 5.0
    except ValueError:
        return None
    if top <= 0:
        return None
    return _whole_stars(number * 5 / top if top != 5 else number)


def _jsonld_objects(soup: BeautifulSoup | Tag) -> Iterator[dict]:
    for script in soup.find_all("script", attrs={"type": re.compile(r"^application/ld\+json", re.I)}):
        try:
            document = json.loads(script.get_text())
        except (json.JSONDecodeError, RecursionError):
            log.info("skipping a JSON-LD block that is not valid JSON")  # third-party markup; not ours to fail on
            continue
        stack = [document]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                yield node
                stack.extend(v for v in node.values() if isinstance(v, (dict, list)))


def _jsonld_page(soup: BeautifulSoup | Tag, tz: tzinfo, page: Page) -> None:
    for node in _jsonld_objects(soup):
        types = _types(node.get("@type"))
        if "review" in types:
            rating = node.get("reviewRating") if isinstance(node.get("reviewRating"), dict) else {}
            created = None
            try:
                created = parse_timestamp(node.get("datePublished"), tz=tz) if node.get("datePublished") else None
            except ValueError:
                pass
            page.reviews.append(
                Review(
                    source_review_id=None,
                    text=clean_text(_jsonld_text(node.get("reviewBody") or node.get("description"))),
                    rating=_scaled_rating(rating.get("ratingValue"), rating.get("bestRating")) if rating else None,
                    author=_name(node.get("author")),
                    created_at=created,
                    updated_at=created,
                    raw={"widget": "schema.org", "format": "json-ld", "record": node},
                )
            )
        aggregate = node.get("aggregateRating")
        if isinstance(aggregate, dict) and not types & _CREATIVE_WORKS:
            count = aggregate.get("reviewCount") or aggregate.get("ratingCount")
            page.summaries.append(
                Summary(
                    "schema.org",
                    _name(node.get("name")),
                    _count(str(count)) if count is not None else None,
                    _average(str(aggregate.get("ratingValue", ""))),
                )
            )


def _itemprops(scope: Tag) -> dict[str, list[Tag]]:
    """The microdata properties of `scope` (not those of items nested in it)."""
    props: dict[str, list[Tag]] = {}

    def walk(node: Tag) -> None:
        for child in node.find_all(True, recursive=False):
            if child.has_attr("itemprop"):
                for name in str(child["itemprop"]).split():
                    props.setdefault(name, []).append(child)
            if not child.has_attr("itemscope"):
                walk(child)

    walk(scope)
    return props


def _itemprop_value(element: Tag) -> str | None:
    if element.name == "meta":
        return element.get("content")
    if element.name == "time":
        return element.get("datetime") or element.get_text()
    if element.name in ("data", "meter"):
        return element.get("value")
    if element.has_attr("content"):
        return element.get("content")
    return element_text(element)


def _prop(props: dict[str, list[Tag]], name: str) -> str | None:
    found = props.get(name)
    return _itemprop_value(found[0]) if found else None


def _microdata_page(soup: BeautifulSoup | Tag, tz: tzinfo, page: Page) -> None:
    for scope in soup.find_all(attrs={"itemscope": True, "itemtype": True}):
        types = _types(str(scope["itemtype"]).split())
        if "review" in types:
            props = _itemprops(scope)
            author = props.get("author", [None])[0]
            if author is not None and author.has_attr("itemscope"):
                author_name = _prop(_itemprops(author), "name")
            else:
                author_name = _itemprop_value(author) if author is not None else None
            value = best = None
            rating_el = props.get("reviewRating", [None])[0]
            if rating_el is not None:
                rating_props = _itemprops(rating_el)
                value, best = _prop(rating_props, "ratingValue"), _prop(rating_props, "bestRating")
            elif "ratingValue" in props:
                value = _prop(props, "ratingValue")
            try:
                created = parse_timestamp(_prop(props, "datePublished"), tz=tz) if "datePublished" in props else None
            except ValueError:
                created = None
            page.reviews.append(
                Review(
                    source_review_id=None,
                    text=clean_text(_prop(props, "reviewBody") or _prop(props, "description")),
                    rating=_scaled_rating(value, best) if value else None,
                    author=clean_text(author_name),
                    created_at=created,
                    updated_at=created,
                    raw={"widget": "schema.org", "format": "microdata"},
                )
            )
        elif "aggregaterating" in types:
            owner = scope.find_parent(attrs={"itemscope": True, "itemtype": True})
            if owner is not None and _types(str(owner["itemtype"]).split()) & _CREATIVE_WORKS:
                continue
            props = _itemprops(scope)
            count = _prop(props, "reviewCount") or _prop(props, "ratingCount")
            subject = _prop(_itemprops(owner), "name") if owner is not None else None
            page.summaries.append(
                Summary("schema.org", clean_text(subject), _count(count) if count else None, _average(_prop(props, "ratingValue")))
            )


# --- the page -------------------------------------------------------------------------------


def _review_key(review: Review) -> tuple:
    return (review.author, review.created_at, review.rating, review.text)


def parse_page(fp: IO[bytes], *, file: str, tz: tzinfo = timezone.utc, charset: str | None = None) -> Page:
    """Every widget review and summary on a page. Raises ParseError when the page has no widget."""
    soup = read_page(fp, file=file, charset=charset)
    page = Page()
    seen: set[tuple] = set()

    def add(review: Review) -> None:
        key = _review_key(review)
        if key in seen:  # the same card twice: a <template> and its rendered copy, slider clones
            return
        if review.text is None and review.rating is None:
            return
        seen.add(key)
        page.reviews.append(review)

    for root in iter_roots(soup):
        for widget in root.select(".ti-widget") or ([root] if root.select_one(".ti-review-item") else []):
            items = widget.select(".ti-review-item")
            for item in items:
                add(_trustindex_review(item, tz, len(page.reviews)))
            if (summary := _trustindex_summary(widget, len(items))) is not None:
                page.summaries.append(summary)
        for widget in root.select(".wp-gr") or ([root] if root.select_one(".wp-google-review, .grw-review") else []):
            items = widget.select(".wp-google-review, .grw-review")
            for item in items:
                add(_grw_review(item, tz, len(page.reviews)))
            if (summary := _grw_summary(widget, len(items))) is not None:
                page.summaries.append(summary)

    widget_summaries = {(s.review_count, s.average_rating) for s in page.summaries}
    marked_up = Page()
    _jsonld_page(soup, tz, marked_up)
    _microdata_page(soup, tz, marked_up)
    if not page.reviews:
        for review in marked_up.reviews:
            add(review)
    for summary in marked_up.summaries:
        if (summary.review_count, summary.average_rating) not in widget_summaries:
            page.summaries.append(replace(summary, reviews_listed=len(marked_up.reviews)))
            widget_summaries.add((summary.review_count, summary.average_rating))

    if not page.reviews and not page.summaries:
        raise ParseError(
            "no review widget found (looked for Trustindex .ti-review-item, Google Reviews Widget "
            ".wp-google-review, schema.org Review and AggregateRating)",
            file=file,
        )
    return page


def iter_reviews(fp: IO[bytes], *, file: str, tz: tzinfo = timezone.utc, charset: str | None = None) -> Iterator[Review]:
    """Reviews of every widget on the page (see parse_page)."""
    yield from parse_page(fp, file=file, tz=tz, charset=charset).reviews

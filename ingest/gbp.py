"""Google Business Profile reviews: Takeout files (also zipped) and the API's ListReviewsResponse pages.

Both share one record shape (`name`, `reviewId`, `reviewer`, `starRating`, `comment`, `createTime`,
`updateTime`, `reviewReply`), so one parser serves the exported file, the zip and the API page.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO, Any

import ijson

from errors import ParseError
from ingest.model import Review
from ingest.text import clean_text, parse_rating, parse_timestamp

_LOCATION_IN_NAME = re.compile(r"locations/([^/]+)")
_LOCATION_FOLDER = re.compile(r"^location-(.+)$")
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_TOTAL_BYTES = 2 * 1024**3
MAX_COMPRESSION_RATIO = 200
MAX_MEMBER_BYTES = 256 * 1024**2  # one reviews*.json; it is read into memory whole
MAX_TEXT_CHARS = 1024 * 1024  # one review or reply; a larger one is an error, not a review
STREAM_BYTES = 32 * 1024**2  # a larger JSON file is read one review at a time


def load_json(fp: IO[bytes], file: str) -> Any:
    """json.load with errors that name the file, line and column."""
    data = fp.read()
    if not data.strip():
        raise ParseError("the file is empty", file=file)
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 JSON (byte {exc.start})", file=file) from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", file=file, where=f"line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ParseError("JSON nested too deeply", file=file) from None


def _check_length(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"text of {len(value)} characters is over the {MAX_TEXT_CHARS // 1024**2} MiB limit")
    return value


def parse_review(record: Any, *, where: str, location_hint: str | None = None) -> Review:
    """One Google review object -> Review. Raises ParseError naming `where` on a bad field."""
    if not isinstance(record, dict):
        raise ParseError(f"expected a review object, got {type(record).__name__}", where=where)
    name = record.get("name")
    review_id = record.get("reviewId") or (name.rsplit("/", 1)[-1] if isinstance(name, str) and "/reviews/" in name else None)
    if not review_id or not isinstance(review_id, str):
        raise ParseError("review has neither reviewId nor a name ending in /reviews/{id}", where=where)
    reviewer = record.get("reviewer") or {}
    if not isinstance(reviewer, dict):
        raise ParseError("reviewer is not an object", where=where)
    location = location_hint
    if isinstance(name, str) and (match := _LOCATION_IN_NAME.search(name)):
        location = match.group(1)
    reply = record.get("reviewReply") or {}
    if not isinstance(reply, dict):
        raise ParseError("reviewReply is not an object", where=where)
    field = "reviewer.displayName"
    try:
        author = None if reviewer.get("isAnonymous") else clean_text(reviewer.get("displayName"))
        field = "starRating"
        rating = parse_rating(record.get("starRating"))
        field = "createTime"
        created = parse_timestamp(record.get("createTime"))
        field = "updateTime"
        updated = parse_timestamp(record.get("updateTime")) or created
        field = "reviewReply.updateTime"
        reply_at = parse_timestamp(reply.get("updateTime"))
        field = "comment"
        text = clean_text(_check_length(record.get("comment")))
        field = "reviewReply.comment"
        reply_text = clean_text(_check_length(reply.get("comment")))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ParseError(f"{field}: {exc}", where=where) from None
    if created is None:
        raise ParseError("createTime is missing", where=where)
    return Review(
        source_review_id=review_id,
        text=text,
        rating=rating,
        author=author,
        created_at=created,
        updated_at=updated,
        reply_text=reply_text,
        reply_at=reply_at if reply_text else None,
        location_ref=location,
        raw=record,
    )


def iter_page(document: Any, *, file: str, location_hint: str | None = None) -> Iterator[Review]:
    """Reviews of one parsed JSON document: a Takeout reviews file or an API ListReviewsResponse."""
    if isinstance(document, list):
        reviews = document
    elif isinstance(document, dict) and "reviews" in document:
        reviews = document["reviews"]
    elif isinstance(document, dict) and ("averageRating" in document or "totalReviewCount" in document):
        reviews = []  # a location with no reviews yet
    elif isinstance(document, dict) and document.get("type") == "FeatureCollection":
        raise ParseError(
            "this is a Google Maps 'Reviews.json' of reviews you wrote, not the reviews of a business; "
            "export the Business Profile from Takeout instead",
            file=file,
        )
    else:
        raise ParseError("no 'reviews' list: not a Google Business Profile reviews file", file=file)
    if not isinstance(reviews, list):
        raise ParseError("'reviews' is not a list", file=file)
    for index, record in enumerate(reviews):
        try:
            yield parse_review(record, where=f"reviews[{index}]", location_hint=location_hint)
        except ParseError as exc:
            raise exc.in_file(file) from None


def location_from_path(path: str) -> str | None:
    """The Google location id of a Takeout path such as `.../location-123/reviews.json`."""
    for part in reversed(PurePosixPath(path.replace("\\", "/")).parts[:-1]):
        if match := _LOCATION_FOLDER.match(part):
            return match.group(1)
    return None


def is_reviews_member(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return name.endswith(".json") and name.startswith("reviews") and "location-" in path


def iter_zip(fp: IO[bytes], *, file: str) -> Iterator[Review]:
    """Reviews of every `location-*/reviews*.json` in a Takeout zip, with size and count limits."""
    try:
        archive = zipfile.ZipFile(fp)
    except zipfile.BadZipFile as exc:
        raise ParseError(f"not a valid zip archive: {exc}", file=file) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ParseError(f"zip holds {len(members)} files, more than the limit of {MAX_ZIP_MEMBERS}", file=file)
        total = sum(m.file_size for m in members)
        if total > MAX_ZIP_TOTAL_BYTES:
            raise ParseError(f"zip expands to {total} bytes, more than the limit of {MAX_ZIP_TOTAL_BYTES}", file=file)
        wanted = [m for m in members if not m.is_dir() and is_reviews_member(m.filename)]
        if not wanted:
            raise ParseError("zip holds no 'Google Business Profile/.../location-*/reviews*.json' file", file=file)
        for member in wanted:
            inner = f"{file}!{member.filename}"
            parts = PurePosixPath(member.filename).parts
            if member.filename.startswith("/") or ".." in parts:
                raise ParseError("unsafe path in zip archive", file=inner)
            if member.compress_size and member.file_size / member.compress_size > MAX_COMPRESSION_RATIO:
                raise ParseError(
                    f"compression ratio {member.file_size // member.compress_size}:1 looks like a zip bomb", file=inner
                )
            if member.file_size > MAX_MEMBER_BYTES:
                raise ParseError(f"expands to {member.file_size} bytes, more than the limit of {MAX_MEMBER_BYTES}", file=inner)
            if member.flag_bits & 0x1:
                raise ParseError("the zip member is encrypted; export the Takeout archive without a password", file=inner)
            try:
                with archive.open(member) as handle:
                    document = load_json(handle, inner)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                # A damaged download (bad CRC, truncated data) or an unsupported compression method.
                raise ParseError(f"cannot read this zip member: {exc}", file=inner) from None
            yield from iter_page(document, file=inner, location_hint=location_from_path(member.filename))


def iter_reviews(fp: IO[bytes], *, file: str) -> Iterator[Review]:
    """Reviews of a Google export given as a JSON file (Takeout or API page) or a Takeout zip.

    A file over STREAM_BYTES is read one review at a time (ijson) when a first pass finds it to be a
    plain reviews document; anything else is parsed whole with the json module, which names the line
    and column of an error.
    """
    head = fp.read(4)
    fp.seek(0)
    if head.startswith(b"PK"):
        yield from iter_zip(fp, file=file)
        return
    hint = location_from_path(file)
    size = fp.seek(0, io.SEEK_END)
    fp.seek(0)
    prefix = find_stream_prefix(fp) if size > STREAM_BYTES else None
    fp.seek(0)
    if prefix is not None:
        for index, record in enumerate(ijson.items(fp, prefix, use_float=True)):
            try:
                yield parse_review(record, where=f"reviews[{index}]", location_hint=hint)
            except ParseError as exc:
                raise exc.in_file(file) from None
        return
    document = load_json(fp, file)
    yield from iter_page(document, file=file, location_hint=hint)


# A \uD800-\uDFFF escape that is not half of a pair: json keeps it, ijson makes it "?".
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
MAX_STREAM_DEPTH = 100  # deeper documents go to the json module, which has its own recursion limit


def find_stream_prefix(fp: IO[bytes]) -> str | None:
    """The ijson prefix of the review objects when the whole stream is a reviews document the json
    module would read the same way: a list of reviews ("item") or an object with one "reviews" list
    ("reviews.item"). None for anything else (invalid or unusual JSON, no reviews list, a lone
    surrogate escape, deep nesting, values ijson reads differently). Reads the stream once; memory
    stays flat."""
    try:
        events = ijson.parse(fp, use_float=True)
        _, event, _ = next(events)
        if event not in ("start_map", "start_array"):
            return None
        prefix = "item" if event == "start_array" else None
        reviews_keys = 0
        depth = 1
        for path, event, value in events:
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_STREAM_DEPTH:
                    return None
            elif event in ("end_map", "end_array"):
                depth -= 1
            if depth == 1 and event == "map_key" and value == "reviews":
                reviews_keys += 1
                _, kind, _ = next(events)
                if kind != "start_array":
                    return None
                depth += 1
                prefix = "reviews.item"
        if prefix is None or (prefix == "reviews.item" and reviews_keys != 1) or depth != 0:
            return None
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeError, ValueError, StopIteration):
        return None
    fp.seek(0)
    carry = b""
    while chunk := fp.read(1024 * 1024):
        if _LONE_SURROGATE.search(carry + chunk):
            return None
        carry = chunk[-12:]
    return prefix

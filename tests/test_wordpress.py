"""WordPress comments: patients' comments, with the practice's replies stored as owner replies."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from errors import ParseError
from ingest import wordpress

from conftest import FIXTURES

PAGE = FIXTURES / "collectors" / "wordpress_comments.html"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def read(owner_names=()) -> list[tuple]:
    with PAGE.open("rb") as fp:
        return [
            (r.source_review_id, r.author, r.created_at, r.text, r.reply_text, r.reply_at, r.raw["parent_id"])
            for r in wordpress.iter_reviews(fp, file=PAGE.name, owner_names=owner_names)
        ]


def test_comments_with_the_post_authors_reply_as_owner_reply_and_visitor_replies_kept():
    assert read() == [
        ("118", "Maria Estrada", utc(2023, 11, 5, 14, 2, 11),
         "Thank you for the info.. How I wish my spasm would go away 😢\n\n"
         "I called twice to book a consult and nobody called me back.",
         "Maria, we are so sorry nobody returned your calls. Our scheduling lead will phone you today.",
         utc(2023, 11, 6, 16, 30), None),
        ("119", "Joan", utc(2023, 11, 16, 9, 40), "Me too! I’ve had mine since 2016.", None, None, "118"),
        ("130", "Peter", utc(2024, 1, 9, 18, 5), "Does the clinic offer Botox injections on Saturdays?", None, None, None),
        # a staff account that is not the post's author is a commenter unless configured as an owner
        ("131", "Front Desk - Dana", utc(2024, 1, 10, 8, 12),
         "Hi Peter, Saturdays are for MRI only; injections are Monday to Friday.", None, None, "130"),
    ]


def test_configured_owner_names_make_staff_replies_owner_replies():
    rows = read(owner_names=["front desk - dana"])
    assert [(r[0], r[4], r[5]) for r in rows] == [
        ("118", "Maria, we are so sorry nobody returned your calls. Our scheduling lead will phone you today.",
         utc(2023, 11, 6, 16, 30)),
        ("119", None, None),
        ("130", "Hi Peter, Saturdays are for MRI only; injections are Monday to Friday.", utc(2024, 1, 10, 8, 12)),
    ]


def test_classic_markup_with_cite_and_dated_link_and_a_rating():
    html = b"""<html><body><ol class="commentlist">
    <li class="comment even thread-even depth-1" id="li-comment-7"><div id="comment-7">
      <div class="comment-author vcard"><cite class="fn">Sam</cite> <span class="says">says:</span></div>
      <div class="comment-meta commentmetadata"><a href="#comment-7">March 4, 2024 at 2:05 pm</a></div>
      <div class="star-rating" role="img" aria-label="Rated 2 out of 5"></div>
      <p>The wait was long.</p><p>The doctor was great.</p>
    </div></li></ol></body></html>"""
    (review,) = wordpress.iter_reviews(io.BytesIO(html), file="p.html", tz=timezone.utc)
    assert (review.source_review_id, review.author, review.created_at, review.rating, review.text) == (
        "7", "Sam", utc(2024, 3, 4, 14, 5), 2, "The wait was long.\n\nThe doctor was great."
    )


def test_a_page_with_an_empty_comments_section_has_no_comments_but_one_without_is_an_error():
    empty = b'<html><body><div id="comments"><div id="respond" class="comment-respond"></div></div></body></html>'
    assert list(wordpress.iter_reviews(io.BytesIO(empty), file="empty.html")) == []
    with pytest.raises(ParseError, match=r"^home.html: no WordPress comments section found"):
        list(wordpress.iter_reviews(io.BytesIO(b"<html><body>Welcome</body></html>"), file="home.html"))


def test_a_bad_comment_date_names_the_comment():
    html = b"""<ol class="comment-list"><li id="comment-9" class="comment"><article class="comment-body">
      <b class="fn">X</b><time datetime="yesterday-ish">?</time><div class="comment-content"><p>Hi</p></div>
      </article></li></ol>"""
    with pytest.raises(ParseError, match=r"^c.html: comment 9: unrecognised date 'yesterday-ish'"):
        list(wordpress.iter_reviews(io.BytesIO(html), file="c.html"))

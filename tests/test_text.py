"""Review text as stored: entities decoded, Unicode normalised, emoji kept, whitespace folded, widget
clamp markers removed; and the encoding of files that do not declare one."""

from __future__ import annotations

import codecs
import unicodedata
from datetime import datetime, timezone

import pytest

from ingest.text import clean_text, decode_document, detect_charset, parse_timestamp


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Dr. Lee &amp; the nurses were great", "Dr. Lee & the nurses were great"),
        ("I&amp;#39;m grateful &amp;amp; relieved", "I'm grateful & relieved"),  # escaped twice by a widget
        ("Caf\u0065\u0301 visit", "Caf\u00e9 visit"),  # decomposed é becomes one character (NFC)
        ("  Too   long\ta wait.  \r\n\r\n\r\n\r\nNever again. ", "Too long a wait.\n\nNever again."),
        ("non\u00a0breaking\u2009thin", "non breaking thin"),
        ("zero\u200bwidth soft\u00adhyphen\ufeff", "zerowidth softhyphen"),
        ("evil\u202egnp.exe and \x07bell\x00", "evilgnp.exe and bell"),  # bidi override and controls removed
        ("   \n\t ", None),
    ],
)
def test_clean_text(raw, stored):
    assert clean_text(raw) == stored


def test_emoji_and_their_joiners_survive():
    family, thumbs, flag, heart = "👨\u200d👩\u200d👧", "👍🏽", "🇬🇧", "❤\ufe0f"
    text = clean_text(f"Great team {family} {thumbs} {flag} {heart}")
    assert text == f"Great team {family} {thumbs} {flag} {heart}"
    assert text == unicodedata.normalize("NFC", text)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("they will change your life!read more", "they will change your life!"),
        ("Nobody called me back... read more", "Nobody called me back"),
        ("Long wait … Read More", "Long wait"),
        ("Friendly staff… more", "Friendly staff"),
        ("They could do more", "They could do more"),  # a patient's own last word
        ("I've given up... the stress is not worth it", "I've given up... the stress is not worth it"),
    ],
)
def test_widget_clamp_markers_are_removed_only_from_clamped_text(raw, stored):
    assert clean_text(raw, clamped=True) == stored
    assert clean_text(raw) == " ".join(raw.split())


def test_google_translation_wrapper_keeps_the_original():
    assert clean_text("(Translated by Google) Very good\n\n(Original)\nMuy bueno") == "Muy bueno"


WORDS = "Café crème – “quoted” naïve résumé, 5€ co-pay"


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (codecs.BOM_UTF8 + WORDS.encode(), None, "utf-8-sig"),
        (WORDS.encode("utf-16"), None, "utf-16"),
        (WORDS.encode(), None, "utf-8"),
        (WORDS.encode("cp1252"), None, "cp1252"),  # undeclared Windows text
        (WORDS.encode("cp1252"), "windows-1252", "cp1252"),
        (b'<html><head><meta charset="ISO-8859-1"></head>' + "é".encode("cp1252"), None, "cp1252"),  # as browsers read it
        (b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">' + "é".encode(), None, "utf-8"),
        ("Очень внимательный врач, но регистратура никогда не отвечает на звонки".encode("cp1251"), None, "cp1251"),
        (WORDS.encode(), "no-such-charset", "utf-8"),  # an unknown label is ignored
    ],
)
def test_detect_charset(data, declared, expected):
    assert detect_charset(data, declared) == expected


def test_decode_document_round_trips_undeclared_windows_text():
    assert decode_document(WORDS.encode("cp1252")) == WORDS
    assert decode_document(codecs.BOM_UTF8 + WORDS.encode()) == WORDS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01T12:00:00.123Z", datetime(2024, 6, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)),
        ("1656603240", datetime(2022, 6, 30, 15, 34, tzinfo=timezone.utc)),
        ("1656603240000", datetime(2022, 6, 30, 15, 34, tzinfo=timezone.utc)),
        ("06/30/2022 15:34:00", datetime(2022, 6, 30, 15, 34, tzinfo=timezone.utc)),
    ],
)
def test_parse_timestamp_forms_the_collectors_meet(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Ärztin war sehr freundlich, aber die Wartezeit über eine Stunde", "cp1252"),
        ("Don’t book here – they’re never on time", "cp1252"),
        ("Lekarz był bardzo miły, ale czekałam godzinę", "cp1250"),
        ("Ο γιατρός ήταν πολύ ευγενικός αλλά περιμέναμε μία ώρα", "cp1253"),
    ],
)
def test_undeclared_single_byte_text_decodes_to_the_right_words(text, encoding):
    assert decode_document(text.encode(encoding)) == text

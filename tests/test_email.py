"""send_report(): the weekly summary over SMTP, against a real aiosmtpd server on loopback with STARTTLS."""

from __future__ import annotations

import email
import logging
import socket
import ssl
from email import policy

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from config import Email
from errors import ConfigError, ReviewPulseError
from report_fixtures import NOW, WEEK, build_database, build_settings
from reports.email import send_report
from reports.site import write_reports

USER, PASSWORD = "reports", "s3cret-pa55"


class Inbox:
    """aiosmtpd handler that keeps every delivered message and whether it came over TLS."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes, bool]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content, session.ssl is not None))
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        if ok:
            self.logins.append(USER)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def smtp_server(ca):
    """An SMTP server on loopback that requires STARTTLS and a login."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context, require_starttls=True,
        authenticator=inbox.authenticate, auth_required=True,
    )
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def client_tls(ca):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def report_page(tmp_path):
    con = build_database(tmp_path)
    run = write_reports(con, build_settings(tmp_path), weeks=[WEEK], now=NOW)
    con.close()
    return run.newest


def email_settings(tmp_path, port: int, **changes):
    fields = dict(recipients=["manager@example.org", "owner@example.org"], sender="reports@riverside.example",
                  smtp_host="127.0.0.1", smtp_port=port, starttls=True, smtp_user=USER)
    return build_settings(tmp_path, email=Email(**{**fields, **changes}))


def test_the_summary_goes_to_every_recipient_with_both_parts_and_the_report_attached(tmp_path, smtp_server, client_tls, report_page, caplog):
    controller, inbox = smtp_server
    settings = email_settings(tmp_path, controller.port)
    caplog.set_level(logging.DEBUG, logger="reviewpulse")

    send_report(settings, report_page, password=PASSWORD, tls_context=client_tls)

    [(sender, recipients, raw, over_tls)] = inbox.messages
    assert (sender, recipients, over_tls, inbox.logins) == (
        "reports@riverside.example", ["manager@example.org", "owner@example.org"], True, [USER]
    )
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Riverside Family Medicine: reviews week 2026-W09 – 5 new, 2 flagged themes, 4 awaiting a reply"
    assert message["To"] == "manager@example.org, owner@example.org"
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "FLAGGED COMPLAINT THEMES" in text and "[I called five times and nobody answered the phone.]" in text
    assert "REVIEWS THAT NEED A REPLY: 4" in text
    assert "<mark>I called five times and nobody answered the phone.</mark>" in html
    assert "&lt;script&gt;" in html and "<script" not in html
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "reviewpulse-2026-W09-practice.html"
    assert attachment.get_content_type() == "text/html"
    assert attachment.get_payload(decode=True) == report_page.read_bytes()
    assert "Riverside Family Medicine: week 2026-W09" in attachment.get_content()
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("reviewpulse")]
    assert ours and not [line for line in ours if PASSWORD in line]


def test_a_refused_login_is_one_clear_error_without_the_password(tmp_path, smtp_server, client_tls, report_page):
    controller, inbox = smtp_server
    settings = email_settings(tmp_path, controller.port)

    with pytest.raises(ReviewPulseError, match=r"SMTP 127\.0\.0\.1:\d+: login as 'reports' refused") as err:
        send_report(settings, report_page, password="wrong", tls_context=client_tls)
    assert "wrong" not in str(err.value) and inbox.messages == []


def test_a_server_without_starttls_is_refused_when_starttls_is_configured(tmp_path, report_page):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = email_settings(tmp_path, controller.port, smtp_user=None)
        with pytest.raises(ReviewPulseError, match="does not offer STARTTLS"):
            send_report(settings, report_page, password=None)
    finally:
        controller.stop()
    assert inbox.messages == []


def test_missing_email_settings_or_password_are_config_errors(tmp_path, report_page):
    with pytest.raises(ConfigError, match=r"reports\.email: not configured"):
        send_report(build_settings(tmp_path), report_page, password=None)
    with pytest.raises(ConfigError, match="no SMTP password"):
        send_report(email_settings(tmp_path, 25), report_page, password=None)


def test_a_page_without_its_summary_asks_for_a_report_run(tmp_path, report_page):
    report_page.with_suffix(".email.json").unlink()
    with pytest.raises(ReviewPulseError, match="run `reviewpulse report` first"):
        send_report(email_settings(tmp_path, 25), report_page, password=PASSWORD)

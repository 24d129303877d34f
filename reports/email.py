"""Email delivery of the weekly summary: HTML body, plain-text alternative, the full page attached.

`render_summary()` turns a week's context into the subject and both bodies when the page is written
(they are stored beside the page as `<page>.email.json`); `send_report()` sends them later over SMTP,
so sending needs no database. The SMTP password is passed in by the caller and never logged.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from config import Settings
from errors import ConfigError, ReviewPulseError
from reports.render import render_page

if TYPE_CHECKING:
    from reports.context import WeekReport

log = logging.getLogger("reviewpulse.email")
QUOTES_PER_THEME = 2
OLDEST_UNANSWERED = 5
SMTP_TIMEOUT = 30


def build_subject(report: "WeekReport") -> str:
    """One line: scope, week, new reviews and flagged themes."""
    flagged = len(report.flagged)
    subject = (
        f"{report.scope_name}: reviews week {report.iso_week} – {report.reviews_this_week} new, "
        f"{flagged} flagged theme{'s' if flagged != 1 else ''}, {report.needs_reply_count} awaiting a reply"
    )
    return " ".join(subject.split())  # no line breaks from configured names can reach a header


def render_summary(report: "WeekReport", page_name: str) -> dict[str, str]:
    """The email for one week page: {"subject", "html", "text", "attachment_name"}. Pure."""
    context = {
        "report": report,
        "quotes_per_theme": QUOTES_PER_THEME,
        "oldest": report.needs_reply[:OLDEST_UNANSWERED],
        "page_name": page_name,
    }
    scope = report.location_id or "practice"
    return {
        "subject": build_subject(report),
        "html": render_page("email.html", **context),
        "text": render_page("email.txt", **context),
        "attachment_name": f"reviewpulse-{report.iso_week}-{scope}.html",
    }


def load_summary(page: Path) -> dict[str, str]:
    """Read the summary stored beside a week page by `write_reports()`."""
    path = page.with_suffix(".email.json")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReviewPulseError(f"{path}: no email summary beside {page.name}; run `reviewpulse report` first") from None
    except json.JSONDecodeError as exc:
        raise ReviewPulseError(f"{path}: unreadable email summary: {exc}") from None
    missing = {"subject", "html", "text", "attachment_name"} - set(summary)
    if missing:
        raise ReviewPulseError(f"{path}: email summary lacks {sorted(missing)}; run `reviewpulse report` again")
    return summary


def build_message(settings: Settings, page: Path) -> EmailMessage:
    """The MIME message: multipart/mixed of (text/plain | text/html) and the page as an attachment."""
    email = settings.reports.email
    if email is None:
        raise ConfigError("reports.email: not configured; add [reports.email] with recipients, sender and smtp_host")
    summary = load_summary(page)
    message = EmailMessage()
    message["Subject"] = summary["subject"]
    message["From"] = email.sender
    message["To"] = ", ".join(email.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=email.sender.rpartition("@")[2] or None)
    message.set_content(summary["text"])
    message.add_alternative(summary["html"], subtype="html")
    # Attached as the exact bytes of the page (base64), declared UTF-8 like the page itself.
    message.add_attachment(
        page.read_bytes(), maintype="text", subtype="html", filename=summary["attachment_name"], params={"charset": "utf-8"}
    )
    return message


def send_report(settings: Settings, page: Path, *, password: str | None, tls_context: ssl.SSLContext | None = None) -> EmailMessage:
    """Send the summary of the week page `page` to `settings.reports.email.recipients`; return the message.

    Uses STARTTLS when configured (with `tls_context`, default: the system's trusted certificates)
    and logs in when `smtp_user` is set. Raises ConfigError for missing settings and
    ReviewPulseError naming the server when sending fails. The password is never logged.
    """
    email = settings.reports.email
    message = build_message(settings, page)
    assert email is not None  # build_message checked
    if email.smtp_user and password is None:
        raise ConfigError("reports.email.smtp_user is set but no SMTP password was given (REVIEWPULSE_SMTP_PASSWORD)")
    server = f"{email.smtp_host}:{email.smtp_port}"
    try:
        with smtplib.SMTP(email.smtp_host, email.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            if email.starttls:
                smtp.starttls(context=tls_context or ssl.create_default_context())
                smtp.ehlo()
            if email.smtp_user:
                smtp.login(email.smtp_user, password or "")
            refused = smtp.send_message(message, from_addr=email.sender, to_addrs=email.recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise ReviewPulseError(f"SMTP {server}: login as {email.smtp_user!r} refused ({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        raise ReviewPulseError(f"SMTP {server}: the server does not offer STARTTLS; set starttls = false only on a trusted network") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise ReviewPulseError(f"SMTP {server}: sending failed: {type(exc).__name__}: {exc}") from None
    if refused:
        log.warning("SMTP %s refused some recipients: %s", server, ", ".join(sorted(refused)))
    log.info("sent %s to %d recipient(s) via %s", page.name, len(email.recipients) - len(refused), server)
    return message

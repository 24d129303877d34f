"""Secrets never leak: a run with a known API token and SMTP password, against servers that echo them.

The Business Profile API server here answers with the Authorization header it received inside its
error bodies, and the SMTP server refuses the login; afterwards the secrets (plain, and in the base64
forms SMTP AUTH sends) must appear in no output: stdout/stderr with verbose logging, log records,
exception messages, the database file's bytes and every text column, error files, the archive, the
reports and the settings' repr.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from config import Email, load_settings
from db import connect
from errors import ReviewPulseError
from reports.email import send_report
from reports.site import write_reports

from conftest import FIXTURES, write_config
from report_fixtures import NOW, build_database, build_settings

REPO = Path(__file__).resolve().parents[1]
TOKEN = "ya29.known-gbp-token-Qx7vZ"
PASSWORD = "known-smtp-pa55-Wq3"
SECRETS = {TOKEN, PASSWORD}


def leaked_forms() -> set[bytes]:
    """Every byte form a secret could take in a file: plain, UTF-16, and SMTP AUTH's base64."""
    forms = set()
    for secret in SECRETS:
        forms |= {secret.encode(), secret.encode("utf-16-le"), base64.b64encode(secret.encode())}
        forms.add(base64.b64encode(f"\0reports\0{secret}".encode()))
    forms.add(base64.b64encode(f"Bearer {TOKEN}".encode()))
    return forms


def assert_clean(data: bytes | str, where: str) -> None:
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    for form in leaked_forms():
        assert form not in raw, f"{where} holds a secret ({form[:6]!r}...)"


def echo_authorization(request: Request) -> Response:
    """A server that repeats the credentials it was sent in its error body (as some proxies do)."""
    body = json.dumps({"error": {"code": 403, "message": f"denied for {request.headers.get('Authorization')}"}})
    return Response(body, status=403, content_type="application/json")


def echo_then_fail(request: Request) -> Response:
    return Response(f"upstream said: {request.headers.get('Authorization')}", status=502)


@pytest.fixture
def practice(tmp_path: Path, httpserver: HTTPServer):
    document = json.loads((FIXTURES / "google" / "api_page.json").read_text(encoding="utf-8"))
    document.pop("nextPageToken", None)
    page = json.dumps(document).encode()
    httpserver.expect_request("/v4/accounts/42/locations/1001/reviews").respond_with_data(page, content_type="application/json")
    httpserver.expect_request("/v4/accounts/42/locations/2002/reviews").respond_with_handler(echo_authorization)
    httpserver.expect_request("/v4/accounts/42/locations/3003/reviews").respond_with_handler(echo_then_fail)
    write_config(tmp_path, f'''
        [[sources]]
        name = "gbp"
        type = "gbp_api"
        location = "main"
        api_base = "{httpserver.url_for("/").rstrip("/")}"
        gbp_locations = ["accounts/42/locations/1001", "accounts/42/locations/2002", "accounts/42/locations/3003"]

        [reports.email]
        recipients = ["manager@example.org"]
        sender = "reports@example.org"
        smtp_host = "127.0.0.1"
        smtp_port = 1
        smtp_user = "reports"
        starttls = false
    ''')
    inbox = tmp_path / "state" / "inbox" / "google"
    inbox.mkdir(parents=True)
    (inbox / "broken.json").write_text('{"reviews": [', encoding="utf-8")
    return tmp_path


def run_cli(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "REVIEWPULSE_GBP_TOKEN": TOKEN, "REVIEWPULSE_SMTP_PASSWORD": PASSWORD}
    return subprocess.run([sys.executable, "-m", "cli", "-v", "-c", str(folder / "reviewpulse.toml"), *args],
                          capture_output=True, text=True, timeout=240, env=env, cwd=folder)


def test_a_verbose_run_leaks_the_secrets_nowhere(practice, httpserver):
    result = run_cli(practice, "run")
    assert result.returncode == 1, result.stderr  # some imports failed, the others went through
    assert_clean(result.stdout, "stdout")
    assert_clean(result.stderr, "stderr (verbose log)")
    # The servers did receive the token, and their echoes reached our error handling.
    assert any(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r, _ in httpserver.log)
    assert result.stderr.count("FAILED ") == 3

    settings = load_settings(practice / "reviewpulse.toml", environ={})
    con = connect(settings.database_path, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 2
        errors = [e for (e,) in con.execute("SELECT error FROM imports WHERE error IS NOT NULL").fetchall()]
        assert len(errors) == 3  # the broken inbox file and two API locations
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'main' AND data_type IN ('VARCHAR', 'JSON')"
        ).fetchall()
        assert len(columns) > 20
        for table, column in columns:
            for (value,) in con.execute(f'SELECT DISTINCT "{column}"::VARCHAR FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall():
                assert_clean(value, f"{table}.{column}")
    finally:
        con.close()
    files = [p for p in practice.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".error.txt") for p in files) and any(p.suffix == ".html" for p in files)
    assert any(p.name.endswith(".duckdb") for p in files)
    for path in files:
        assert_clean(path.read_bytes(), str(path.relative_to(practice)))
    assert_clean(repr(settings), "repr(settings)")


class RefusingAuthenticator:
    def __init__(self):
        self.passwords: list[bytes] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.passwords.append(auth_data.password)
        return AuthResult(success=False, handled=False)


def test_a_refused_smtp_login_names_the_user_but_never_the_password(tmp_path, caplog, unused_tcp_port):
    authenticator = RefusingAuthenticator()
    controller = Controller(object(), hostname="127.0.0.1", port=unused_tcp_port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        email = Email(recipients=["manager@example.org"], sender="reports@example.org", smtp_host="127.0.0.1",
                      smtp_port=unused_tcp_port, smtp_user="reports", starttls=False)
        settings = build_settings(tmp_path, email=email).model_copy(update={"smtp_password": SecretStr(PASSWORD)})
        con = build_database(tmp_path)
        try:
            run = write_reports(con, settings, now=NOW)
        finally:
            con.close()
        caplog.set_level(logging.DEBUG)
        with pytest.raises(ReviewPulseError) as info:
            send_report(settings, run.newest, password=settings.smtp_password.get_secret_value())
    finally:
        controller.stop()
    assert set(authenticator.passwords) == {PASSWORD.encode()}  # it was really sent (PLAIN, then LOGIN)
    assert str(info.value) == f"SMTP 127.0.0.1:{unused_tcp_port}: login as 'reports' refused (535)"
    assert_clean(str(info.value), "exception message")
    assert_clean(repr(info.value.__context__), "exception context")
    assert_clean(caplog.text, "log records")
    assert_clean(repr(settings) + str(settings.model_dump()) + settings.model_dump_json(), "settings dump")


@pytest.fixture
def unused_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

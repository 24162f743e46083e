"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import email
import email.policy
import os
import secrets
import threading
from collections.abc import Callable
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult, LoginPassword

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition, parse_definition
from survey.resources import BUNDLED_SURVEYS_DIR

BUNDLED = BUNDLED_SURVEYS_DIR / "libraries-abroad.yaml"


def load(database: Database, definition: SurveyDefinition) -> store.LoadResult:
    with database.begin(write=True) as s:
        return store.load_definition(s, definition=definition)


def stored_answers(database: Database) -> list[dict[str, Any]]:
    """Every stored response's answers, oldest first."""
    from sqlmodel import select

    from survey.models import Response

    with database.session() as session:
        return [r.answers for r in session.exec(select(Response).order_by(Response.id))]


def add_response(
    database: Database, *, slug: str = "libraries-abroad", answers: dict[str, Any]
) -> int:
    """Store a response the way the web app does (one INSERT, committed)."""
    with database.session() as session:
        survey = store.get_survey(session, slug=slug)
        assert survey is not None
        assert survey.id is not None
        version_id = store.current_version(session, survey=survey).id
        assert version_id is not None
    with database.write_connection() as conn:
        new_id, _ = store.insert_response(
            conn, survey_id=survey.id, survey_version_id=version_id, answers=answers
        )
    return new_id


def definition_from(text: str) -> SurveyDefinition:
    return parse_definition(text, "test.yaml")


def create_postgres_database(server_url: str) -> tuple[str, sa.Engine]:
    """A new, empty database on the server; returns its URL and an admin engine."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"survey_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(server_url).set(database=name)
    return url.render_as_string(hide_password=False), admin


def drop_postgres_database(admin: sa.Engine, url: str) -> None:
    name = sa.make_url(url).database
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def form_token(client: Any, path: str) -> str:
    """The signed token a rendered form carries, as a browser would send it back."""
    import re

    match = re.search(r'name="_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no form token on {path}"
    return match.group(1)


def post_form(client: Any, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST the form at ``path`` the way a browser does: with the token it was given."""
    fields = {"_token": form_token(client, path), **(data or {})}
    return client.post(path, data=fields, **kwargs)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`survey serve` in a real process, as an operator starts it."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: str | None = None) -> None:
        import subprocess
        import tempfile

        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="survey-serve-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [*command, "serve", "--port", str(self.port), *self.extra_args],
            # Tests answer forms faster than people do, and many from one
            # address: no minimum fill time and no rate limit unless asked.
            env={**os.environ, "SURVEY_MIN_FILL_SECONDS": "0", "SURVEY_RATE_LIMIT": "off", **env},
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    extra_args: tuple[str, ...] = ()

    def wait_ready(self, timeout: float = 60) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server not ready in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        import signal
        import subprocess

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)


ADMIN_EMAIL = "admin@example.org"
VIEWER_EMAIL = "viewer@example.org"
STAFF_PASSWORD = "a long enough password"


def create_staff(database: Database, email: str, role: str) -> int:
    from survey.accounts import hash_password

    with database.begin(write=True) as s:
        user = store.create_user(
            s, email=email, password_hash=hash_password(STAFF_PASSWORD), role=role
        )
    assert user.id is not None
    return user.id


def sign_in(client: Any, email: str, password: str = STAFF_PASSWORD, next: str = "/admin") -> Any:
    """Sign in through the real form, as a browser does (with its CSRF token)."""
    import re

    page = client.get("/admin/login")
    match = re.search(r'name="_sign_in" value="([^"]+)"', page.text)
    assert match, "no sign-in token on the sign-in page"
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "next": next, "_sign_in": match.group(1)},
    )


def csrf_token(client: Any, path: str = "/admin") -> str:
    """The CSRF token the staff pages carry for the signed-in session."""
    import re

    match = re.search(r'name="_csrf" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_json(
    url: str, body: dict[str, object], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    """POST JSON to a real server; (status, decoded body) for errors too."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:  # an HTTPError holds the connection open
            return error.code, json.loads(error.read())


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers with the statuses given."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "120")
                self.end_headers()
                self.wfile.write(b"thanks")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """What the SMTP server received, and the logins it saw."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"p@ss word")


def wait_for(condition: Callable[[], object], seconds: float = 30) -> None:
    """Poll until ``condition()`` is true or the time is up (the assertions
    after it say what was missing)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)

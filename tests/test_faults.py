"""What readers and clients get while the database is away or the disk is full
(real servers, a real full file system, a real PostgreSQL cut off): a clear
503 with Retry-After, the form again with every answer in it, a health check
that says so, the last good copy of the survey, and nothing lost or torn down."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import Server, create_postgres_database, drop_postgres_database, free_port

pytestmark = pytest.mark.slow
SURVEY = str(Path(sys.executable).with_name("survey"))
BUNDLED = str(Path(__file__).parent.parent / "survey/surveys/libraries-abroad.yaml")
FORM = "/s/libraries-abroad"
API = "/api/surveys/libraries-abroad/responses"
ANSWERS = {
    "visits_libraries": "often",
    "lessons": "Story walks in Lisbon",
    "international_member": "yes",
    "based_in": "CA",
}


def token_of(html: str) -> str:
    found = re.search(r'name="_token" value="([^"]+)"', html)
    assert found, "no form token on the page"
    return found.group(1)


def send_form(client: httpx.Client, html: str) -> httpx.Response:
    return client.post(FORM, data={**ANSWERS, "_token": token_of(html)})


def stored_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM response").scalar_one())
    finally:
        engine.dispose()


def prepare(url: str) -> None:
    env = {**os.environ, "SURVEY_DATABASE_URL": url}
    for command in (["migrate"], ["load", BUNDLED]):
        subprocess.run([SURVEY, *command], env=env, check=True, capture_output=True)


def assert_outage_answers(client: httpx.Client) -> None:
    """The form (a new view of it) keeps every answer with a notice; the API
    answers JSON; both 503."""
    form = send_form(client, client.get(FORM).text)
    assert form.status_code == 503, form.headers
    assert form.headers["retry-after"] == "5"
    assert "Story walks in Lisbon" in form.text  # the answer is still in the form
    assert "send them again in a moment" in form.text
    assert 'name="_token"' in form.text
    api = client.post(API, json={"answers": ANSWERS})
    assert api.status_code == 503
    assert api.headers["retry-after"] == "5"
    assert "nothing was stored" in api.json()["detail"]


@contextlib.contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a small file system here: {mounted.stderr.strip()}"
        if os.environ.get("SURVEY_REQUIRE_POSTGRES") == "1":  # CI: nothing may skip
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write until the file system says it is full."""
    filler = directory / "filler"

    def write_forever() -> None:
        with open(filler, "wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()

    with pytest.raises(OSError, match="No space left") as full:
        write_forever()
    assert full.value.errno == errno.ENOSPC
    return filler


def test_a_full_disk_answers_503_keeps_the_answers_and_fails_the_health_check(
    tmp_path: Path,
) -> None:
    with small_filesystem(tmp_path / "small", "3m") as small:
        url = f"sqlite:///{small / 'survey.db'}"
        prepare(url)
        server = Server([SURVEY], {"SURVEY_DATABASE_URL": url})
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.url) as client:
                page = client.get(FORM).text
                assert send_form(client, page).status_code == 303
                filler = fill(small)
                assert_outage_answers(client)
                health = client.get("/healthz")
                assert (health.status_code, health.json()) == (
                    503,
                    {"status": "database refuses writes"},
                )
                assert client.get(FORM).status_code == 200  # readers can still read
                filler.unlink()
                assert client.get("/healthz").status_code == 200
                again = send_form(client, client.get(FORM).text)
                assert again.status_code == 303
                assert client.post(API, json={"answers": ANSWERS}).status_code == 201
            output = server.output()
        finally:
            server.stop()
        assert stored_count(url) == 3
        assert "Traceback" not in output
        assert len(re.findall(r"storage unavailable on POST", output)) == 2


class Proxy:
    """A TCP proxy to PostgreSQL that can be cut (every connection reset, new
    ones refused) and restored: the database going away and coming back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self._listener is not None
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._listener = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


def test_postgresql_away_the_form_still_shows_and_sending_answers_503(
    postgres_server_url: str,
) -> None:
    url, admin = create_postgres_database(postgres_server_url)
    try:
        prepare(url)
        server_url = sa.make_url(url)
        proxy = Proxy((server_url.host or "127.0.0.1", server_url.port or 5432))
        through_proxy = server_url.set(port=proxy.port).render_as_string(hide_password=False)
        server = Server(
            [SURVEY],
            {"SURVEY_DATABASE_URL": through_proxy, "SURVEY_DEFINITION_CACHE_SECONDS": "0.2"},
        )
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.url, timeout=30) as client:
                assert client.get(FORM).status_code == 200  # the survey is in memory
                proxy.cut()
                time.sleep(0.3)  # the survey is due for a check: it cannot be made
                for _ in range(3):
                    shown = client.get(FORM)
                    assert shown.status_code == 200, shown.text[:300]
                    assert "Libraries Abroad" in shown.text
                assert_outage_answers(client)
                health = client.get("/healthz")
                assert (health.status_code, health.json()) == (
                    503,
                    {"status": "database unavailable"},
                )
                proxy.restore()
                assert client.get("/healthz").status_code == 200
                assert send_form(client, client.get(FORM).text).status_code == 303
            output = server.output()
        finally:
            server.stop()
        assert stored_count(url) == 1
        assert "Traceback" not in output
    finally:
        drop_postgres_database(admin, url)


def exchange(sock: socket.socket, path: str) -> tuple[int, str]:
    """One GET on a kept-alive connection: its status and body."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return int(head.split()[1]), body.decode()


def test_an_unexpected_error_does_not_tear_down_the_connection(settings: Settings) -> None:
    """A 500 is a whole answer; the client's next request on the same
    keep-alive connection is answered too."""
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, loop="asyncio", http="httptools", log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        # A raw socket: an HTTP library would quietly open a new connection.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            status, body = exchange(sock, "/boom")
            assert status == 500
            assert "Something went wrong" in body
            assert exchange(sock, "/healthz")[0] == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)

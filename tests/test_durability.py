"""No acknowledged submission is ever lost, even when processes die.

The same idea as Jepsen: clients record every response the server
acknowledged (201) while a worker is killed with SIGKILL mid-load, then the
whole server is killed; after a restart on the same database every
acknowledged response must be exported exactly once, whole.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port

pytestmark = pytest.mark.slow
SURVEY = str(Path(sys.executable).with_name("survey"))
CLIENTS = 20


def start(database_url: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [SURVEY, "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, "SURVEY_DATABASE_URL": database_url, "SURVEY_RATE_LIMIT": "off"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, to kill it whole
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("server did not start")


def workers_of(pid: int) -> list[int]:
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            children.append(int(status.parent.name))
    return children


def test_acknowledged_submissions_survive_killed_workers_and_server(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/surveys/libraries-abroad/responses"
    server = start(database_url, port)
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        sent = 0
        while not stop.is_set():
            tag = f"client {number} #{sent}"
            sent += 1
            body = json.dumps({"answers": {"visits_libraries": "often", "lessons": tag}})
            request = urllib.request.Request(
                url, data=body.encode(), headers={"content-type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 201:
                        with lock:
                            acknowledged[tag] = json.loads(response.read())["id"]
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.01)  # refused, reset or cut off: not acknowledged

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        victims = workers_of(server.pid)
        assert victims, "no worker processes found"
        os.kill(victims[0], signal.SIGKILL)  # one worker dies mid-load
        time.sleep(2)
        os.killpg(server.pid, signal.SIGKILL)  # then the whole server
        server.wait()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert len(acknowledged) > 100, "the load never got going"

    restarted = start(database_url, port)  # same database, as after a crash
    try:
        exported = subprocess.run(
            [SURVEY, "export", "libraries-abroad"],
            env={"SURVEY_DATABASE_URL": database_url, "PATH": ""},
            capture_output=True,
            check=True,
        ).stdout.decode()
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=30)
    rows = list(csv.DictReader(io.StringIO(exported)))
    by_tag: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        assert row["visits_libraries"] == "often", row  # whole, never partial
        by_tag.setdefault(row["lessons"], []).append(row)
    for tag, response_id in acknowledged.items():
        assert [r["response_id"] for r in by_tag.get(tag, [])] == [str(response_id)], tag
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

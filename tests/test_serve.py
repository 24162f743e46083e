"""`survey serve` as operators run it: real processes, real sockets."""

from __future__ import annotations

import csv
import io
import json
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import Server

pytestmark = pytest.mark.slow
SURVEY = [str(Path(sys.executable).with_name("survey"))]


def post_json(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class TwoWorkers(Server):
    extra_args = ("--workers", "2")


@pytest.mark.parametrize(
    ("server_class", "clients", "submissions"),
    [
        # The contract: 2 workers, 20 clients, 500 submissions.
        (TwoWorkers, 20, 500),
        # More clients than one worker has threads (40) or pooled connections
        # (20): a request must never hold one connection or lock while it waits
        # for another, or the server stalls.
        (Server, 64, 640),
    ],
    ids=["2-workers-20-clients", "1-worker-64-clients"],
)
def test_every_concurrent_submission_is_stored_exactly_once(
    database_url: str, server_class: type[Server], clients: int, submissions: int
) -> None:
    server = server_class(SURVEY, {"SURVEY_DATABASE_URL": database_url})
    try:
        server.wait_ready()
        url = f"{server.url}/api/surveys/libraries-abroad/responses"
        acknowledged: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            for i in range(number, submissions, clients):
                # Every fifth client also sends a bad submission: it must be refused
                # without disturbing the good ones around it.
                if number % 5 == 0:
                    status, _ = post_json(url, {"answers": {"visits_libraries": "never"}})
                    if status != 422:
                        failures.append(f"bad submission got {status}")
                status, body = post_json(
                    url,
                    {"answers": {"visits_libraries": "often", "lessons": f"client {number} #{i}"}},
                )
                with lock:
                    if status == 201:
                        acknowledged.append(int(str(body["id"])))
                    else:
                        failures.append(f"{status}: {body}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert failures == []
    assert len(acknowledged) == submissions

    import subprocess

    exported = subprocess.run(
        [*SURVEY, "export", "libraries-abroad"],
        env={"SURVEY_DATABASE_URL": database_url, "PATH": ""},
        capture_output=True,
        check=True,
    ).stdout.decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == submissions
    assert sorted(int(r["response_id"]) for r in rows) == sorted(acknowledged)
    assert {r["lessons"] for r in rows} == {
        f"client {i % clients} #{i}" for i in range(submissions)
    }

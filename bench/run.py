"""The benchmark suite: `make bench` (or `.venv/bin/python bench/run.py`).

Runs the product under `survey serve` exactly as users run it, loads it with
wrk (a separate C process), and measures a minimal reference app in the same
run on the same machine, so that every speed is also a ratio.  Prints a
table and writes bench/results/latest.json.  Not part of the test suite.

Needs wrk, sqlite3 and psql (Debian packages), and a PostgreSQL server
(BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from survey.web.server import LOOPS, event_loop

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SURVEY = str(BIN / "survey")
UVICORN = str(BIN / "uvicorn")
SLUG = "libraries-abroad"
ANSWERS = {
    "visits_libraries": "often",
    "lessons": "Story walks, quiet rooms for teens, and maker spaces in small branches.",
    "places": "Toronto, Riyadh, Lisbon",
    "international_member": "yes",
    "based_in": "CA",
    "resources": ["webinars", "booklists", "other"],
    "resources_other": "Mentoring circles",
    "anything_else": "Thank you for the post!",
    "quote_consent": True,
}
FORM_BODY = (
    "visits_libraries=often&lessons=Story+walks%2C+quiet+rooms+for+teens&places=Toronto"
    "&international_member=yes&based_in=CA&resources=webinars&resources=booklists"
    "&resources=other&resources_other=Mentoring+circles&quote_consent=yes"
)
CONNECTIONS = 64


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.args}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} not ready in {timeout}s")


@contextlib.contextmanager
def serve(command: list[str], env: dict[str, str], ready_path: str) -> Iterator[tuple[str, int]]:
    """Start a server, wait until it answers, yield (base URL, pid), stop it."""
    port = free_port()
    command = [c.replace("{port}", str(port)) for c in command]
    process = subprocess.Popen(
        command,
        env={**os.environ, "SURVEY_RATE_LIMIT": "off", "SURVEY_MIN_FILL_SECONDS": "0", **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + ready_path, process)
        yield base, process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# The --loop both the product and the references run with.
LOOP = "auto"


def product(workers: int, db_url: str) -> list[str]:
    return [SURVEY, "serve", "--port", "{port}", "--workers", str(workers), "--loop", LOOP]


def reference(workers: int) -> list[str]:
    # The same server settings as `survey serve`: the loop, httptools, and
    # TCP_NODELAY on every connection (survey/web/server.py), so that the
    # ratio is about the app, not about how uvicorn was started.
    return [
        UVICORN,
        "bench.reference_app:app",
        "--port",
        "{port}",
        "--workers",
        str(workers),
        "--loop",
        event_loop(LOOP, workers),
        "--http",
        "survey.web.server:NoDelayHttpProtocol",
    ]


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, script: str | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(match.group(1)) * UNITS[match.group(2)] if match else float("nan")

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": total,
        "errors": int(bad.group(1)) if bad else 0,
    }


def post_script(path: Path, body: str, content_type: str) -> str:
    path.write_text(
        'wrk.method = "POST"\n'
        f'wrk.headers["Content-Type"] = "{content_type}"\n'
        f"wrk.body = {json.dumps(body)}\n"
    )
    return str(path)


def form_script(path: Path, db_url: str, count: int) -> str:
    """A wrk script that sends each request with a token of its own, signed
    with the server's key as a rendered form would carry it."""
    from survey.formtokens import FormTokens

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        secret = conn.exec_driver_sql(
            "SELECT value FROM app_secret WHERE name = 'form-token-key'"
        ).scalar_one()
    engine.dispose()
    tokens = FormTokens(secret, max_age_seconds=3600)
    bodies = ",\n".join(
        json.dumps(f"_token={tokens.issue(SLUG, 1)}&{FORM_BODY}") for _ in range(count)
    )
    path.write_text(
        "local bodies = {\n" + bodies + "\n}\n"
        "local threads = 0\n"
        "function setup(thread) thread:set('id', threads); threads = threads + 1 end\n"
        "local n = 0\n"
        "request = function()\n"
        "  local i = (id + n * 2) % #bodies + 1\n"
        "  n = n + 1\n"
        "  return wrk.format('POST', nil, "
        "{['Content-Type'] = 'application/x-www-form-urlencoded'}, bodies[i])\n"
        "end\n"
    )
    return str(path)


def median_of(runs: list[dict[str, float]], key: str) -> dict[str, float]:
    values = [r[key] for r in runs]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {key: median_of(runs, key) for key in ("rps", "p50_ms", "p99_ms")} | {"runs": runs}


def count_rows(db_url: str, table: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
    finally:
        engine.dispose()


# --- databases ---------------------------------------------------------------


class Databases:
    def __init__(self, workdir: Path, postgres_server: str) -> None:
        self.workdir = workdir
        self.postgres_server = postgres_server
        self.created: list[str] = []

    def sqlite(self, name: str) -> str:
        return f"sqlite:///{self.workdir / name}.db"

    def postgres(self, name: str) -> str:
        admin = sa.create_engine(self.postgres_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        self.created.append(name)
        return sa.make_url(self.postgres_server).set(database=name).render_as_string(False)

    def drop_all(self) -> None:
        admin = sa.create_engine(self.postgres_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def prepare_product_db(url: str) -> None:
    env = {**os.environ, "SURVEY_DATABASE_URL": url}
    subprocess.run([SURVEY, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [SURVEY, "load", str(ROOT / "survey/surveys/libraries-abroad.yaml")],
        env=env,
        check=True,
        capture_output=True,
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        created = "text" if url.startswith("sqlite") else "timestamptz"
        key = "integer PRIMARY KEY" if url.startswith("sqlite") else "serial PRIMARY KEY"
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS bench_raw (id {key}, payload text NOT NULL, "
            f"created_at {created} NOT NULL)"
        )
    engine.dispose()


# --- the benchmarks ------------------------------------------------------------


def bench_form_page(seconds: int, repeats: int, dbs: Databases) -> dict[str, Any]:
    url_db = dbs.sqlite("form")
    prepare_product_db(url_db)
    env = {"SURVEY_DATABASE_URL": url_db}
    with serve(product(1, url_db), env, "/healthz") as (base, _):
        size = len(urllib.request.urlopen(f"{base}/s/{SLUG}").read())
    results: dict[str, Any] = {"page_bytes": size}
    for workers in (1, 2):
        runs: dict[str, list[dict[str, float]]] = {"product": [], "reference": []}
        for _ in range(repeats):
            with serve(product(workers, url_db), env, "/healthz") as (base, _):
                runs["product"].append(wrk(f"{base}/s/{SLUG}", seconds))
            ref_env = {"BENCH_REF": "page", "BENCH_PAGE_BYTES": str(size)}
            with serve(reference(workers), ref_env, "/page") as (base, _):
                runs["reference"].append(wrk(f"{base}/page", seconds))
        product_s, reference_s = summarize(runs["product"]), summarize(runs["reference"])
        results[f"{workers}_workers"] = {
            "product": product_s,
            "reference": reference_s,
            "ratio": product_s["rps"]["median"] / reference_s["rps"]["median"],
        }
    return results


def bench_submissions(seconds: int, repeats: int, dbs: Databases, workdir: Path) -> dict[str, Any]:
    api_lua = post_script(workdir / "api.lua", json.dumps({"answers": ANSWERS}), "application/json")
    ref_lua = post_script(workdir / "ref.lua", json.dumps(ANSWERS), "application/json")
    results: dict[str, Any] = {}
    for kind in ("sqlite", "postgresql"):
        url = dbs.sqlite("submit") if kind == "sqlite" else dbs.postgres("bench_submit")
        prepare_product_db(url)
        # A load test is a trusted sender: no minimum fill time.
        env = {"SURVEY_DATABASE_URL": url, "SURVEY_MIN_FILL_SECONDS": "0"}
        for workers in (1, 2):
            runs: dict[str, list[dict[str, float]]] = {
                "api": [],
                "form": [],
                "reference_raw": [],
                "reference_session": [],
            }
            lost: list[str] = []
            for _ in range(repeats):
                with serve(product(workers, url), env, "/healthz") as (base, _):
                    # Every form POST needs a form of its own: the same token twice
                    # is one response (duplicate suppression).
                    form_lua = form_script(workdir / "form.lua", url, count=40_000)
                    for name, path, script in (
                        ("api", f"/api/surveys/{SLUG}/responses", api_lua),
                        ("form", f"/s/{SLUG}", form_lua),
                    ):
                        before = count_rows(url, "response")
                        run = wrk(base + path, seconds, script)
                        time.sleep(0.5)
                        stored = count_rows(url, "response") - before
                        acknowledged = run["requests"] - run["errors"]
                        run["stored"] = stored
                        if not acknowledged <= stored <= acknowledged + CONNECTIONS:
                            lost.append(f"{name}: {acknowledged} acknowledged, {stored} stored")
                        runs[name].append(run)
                for ref in ("raw", "session"):
                    ref_env = {"BENCH_REF": ref, "BENCH_DB": url}
                    with serve(reference(workers), ref_env, "/docs") as (base, _):
                        runs[f"reference_{ref}"].append(wrk(f"{base}/insert", seconds, ref_lua))
            summary = {name: summarize(r) for name, r in runs.items()}
            raw = summary["reference_raw"]["rps"]["median"]
            session = summary["reference_session"]["rps"]["median"]
            summary["api_vs_raw"] = summary["api"]["rps"]["median"] / raw
            summary["form_vs_raw"] = summary["form"]["rps"]["median"] / raw
            summary["api_vs_session"] = summary["api"]["rps"]["median"] / session
            summary["lost"] = lost
            results[f"{kind}_{workers}_workers"] = summary
        one, two = results[f"{kind}_1_workers"], results[f"{kind}_2_workers"]
        results[f"{kind}_scaling"] = {
            "api": two["api"]["rps"]["median"] / one["api"]["rps"]["median"],
            "reference_raw": two["reference_raw"]["rps"]["median"]
            / one["reference_raw"]["rps"]["median"],
        }
    return results


def bench_webhook(seconds: int, repeats: int, dbs: Databases, workdir: Path) -> dict[str, Any]:
    """Submissions per second with a webhook configured against without (#15:
    the outbox row must not slow the write path).  Runs alternate (none,
    webhook, webhook, none, ...) on one database so drift hits both alike.
    "webhook" leaves delivery to a worker that is not running (the write path
    alone); "delivered inline" posts every event to a local receiver from the
    server itself, on the same cores, as `survey serve` does by default."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    api_lua = post_script(workdir / "api.lua", json.dumps({"answers": ANSWERS}), "application/json")
    results: dict[str, Any] = {}
    try:
        for kind, workers in (("sqlite", 1), ("postgresql", 2)):
            url = dbs.sqlite("webhook") if kind == "sqlite" else dbs.postgres("bench_webhook")
            prepare_product_db(url)
            base_env = {
                "SURVEY_DATABASE_URL": url,
                "SURVEY_WEBHOOK_ALLOW_HTTP": "true",
                "SURVEY_WEBHOOK_ALLOW_PRIVATE": "true",
            }
            cli_env = {**os.environ, **base_env}
            runs: dict[str, list[dict[str, float]]] = {
                "none": [],
                "webhook": [],
                "delivered_inline": [],
            }
            for repeat in range(repeats):
                order = ["none", "webhook", "delivered_inline"]
                for config in order if repeat % 2 == 0 else order[::-1]:
                    engine = sa.create_engine(url)
                    with engine.begin() as conn:
                        conn.exec_driver_sql("DELETE FROM webhook_attempt")
                        conn.exec_driver_sql("DELETE FROM webhook_delivery")
                        conn.exec_driver_sql("DELETE FROM webhook")
                    engine.dispose()
                    if config != "none":
                        subprocess.run(
                            [SURVEY, "webhook", "add", SLUG, hook_url],
                            env=cli_env,
                            check=True,
                            capture_output=True,
                        )
                    env = {
                        **base_env,
                        "SURVEY_DELIVERY": "inline" if config == "delivered_inline" else "off",
                    }
                    with serve(product(workers, url), env, "/healthz") as (base, _):
                        runs[config].append(
                            wrk(f"{base}/api/surveys/{SLUG}/responses", seconds, api_lua)
                        )
            summary: dict[str, Any] = {name: summarize(r) for name, r in runs.items()}
            none = summary["none"]["rps"]["median"]
            summary["webhook_vs_none"] = summary["webhook"]["rps"]["median"] / none
            summary["delivered_inline_vs_none"] = (
                summary["delivered_inline"]["rps"]["median"] / none
            )
            results[f"{kind}_{workers}_workers"] = summary
    finally:
        receiver.shutdown()
        receiver.server_close()
    return results


def generate_responses(url: str, count: int) -> None:
    """Responses to the bundled survey, written straight into the database, and
    the same rows flattened into one table for the reference export."""
    prepare_product_db(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        survey_id, version_id = conn.exec_driver_sql(
            "SELECT s.id, v.id FROM survey s JOIN survey_version v ON v.survey_id = s.id "
            "AND v.version = s.current_version WHERE s.slug = 'libraries-abroad'"
        ).one()
    engine.dispose()
    columns = [
        "visits_libraries",
        "lessons",
        "places",
        "international_member",
        "based_in",
        "resources",
        "anything_else",
        "name",
        "email",
        "quote_consent",
    ]

    # Rows as the product writes them, CSV cells included.
    from survey.definitions import load_file
    from survey.export import question_columns, render_cells

    definition = load_file(ROOT / "survey/surveys/libraries-abroad.yaml")
    export_columns = question_columns([definition.questions_json()])

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(count):
            answers = dict(ANSWERS)
            answers["lessons"] = f"Answer number {n}: " + ANSWERS["lessons"]  # type: ignore[operator]
            answers["name"] = f"Reader {n}"
            answers["email"] = f"reader{n}@example.org"
            # Some spread, so that the staff summary has something to count.
            answers["visits_libraries"] = ("often", "sometimes", "not_yet")[n % 3]
            answers["based_in"] = ("CA", "SA", "FR", "MX", "NG")[n % 5]
            yield (
                survey_id,
                version_id,
                f"2026-{1 + n % 12:02d}-15 12:00:00.000000",
                json.dumps(answers),
                answers,
                render_cells(export_columns, answers),
            )

    flat_sql = (
        "CREATE TABLE flat (response_id integer, submitted_at text, survey_version integer, "
        "source text, " + ", ".join(f"{c} text" for c in columns) + ")"
    )
    if url.startswith("sqlite"):
        conn2 = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn2.execute("DROP TABLE IF EXISTS flat")
        conn2.execute(flat_sql)
        batch: list[tuple[Any, ...]] = []
        flat: list[tuple[Any, ...]] = []
        next_id = 1
        for survey, version, when, payload, answers, cells in rows():
            batch.append((survey, version, when, payload, cells))
            flat.append(
                (
                    next_id,
                    when.replace(" ", "T")[:19] + "Z",
                    1,
                    "",
                    *(_flat_cell(answers, c) for c in columns),
                )
            )
            next_id += 1
            if len(batch) == 20_000:
                _flush_sqlite(conn2, batch, flat)
        _flush_sqlite(conn2, batch, flat)
        conn2.close()
    else:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as pg:
            pg.execute("DROP TABLE IF EXISTS flat")
            pg.execute(flat_sql)
            with pg.cursor() as cursor:
                with cursor.copy(
                    "COPY response (survey_id, survey_version_id, submitted_at, answers, "
                    "csv_cells) FROM STDIN"
                ) as copy:
                    for survey, version, when, payload, _, cells in rows():
                        copy.write_row((survey, version, when + "+00", payload, cells))
                with cursor.copy("COPY flat FROM STDIN") as copy:
                    for n, (_, _, when, _, answers, _) in enumerate(rows(), start=1):
                        copy.write_row(
                            (
                                n,
                                when.replace(" ", "T")[:19] + "Z",
                                1,
                                "",
                                *(_flat_cell(answers, c) for c in columns),
                            )
                        )
            pg.execute("ANALYZE")


def _flat_cell(answers: dict[str, Any], key: str) -> str:
    value = answers.get(key)
    if isinstance(value, list):
        return "; ".join(
            f"other: {answers['resources_other']}" if v == "other" else v for v in value
        )
    if value is True:
        return "yes"
    return "" if value is None else str(value)


def _flush_sqlite(conn: sqlite3.Connection, batch: list[Any], flat: list[Any]) -> None:
    conn.executemany(
        "INSERT INTO response (survey_id, survey_version_id, submitted_at, answers, csv_cells) "
        "VALUES (?, ?, ?, ?, ?)",
        batch,
    )
    conn.executemany(f"INSERT INTO flat VALUES ({', '.join('?' * 14)})", flat)
    conn.commit()
    batch.clear()
    flat.clear()


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command, by GNU time."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *command],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, kilobytes = out.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 1024


def worker_peak_rss_mb(server_pid: int) -> float:
    peaks = []
    for child in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            status = (child / "status").read_text()
            ppid = int(re.search(r"PPid:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            if ppid == server_pid or child.name == str(server_pid):
                peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))  # type: ignore[union-attr]
    return max(peaks) / 1024


def bench_export(sizes: list[int], repeats: int, dbs: Databases, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for kind in ("sqlite", "postgresql"):
        for size in sizes:
            url = (
                dbs.sqlite(f"export{size}")
                if kind == "sqlite"
                else dbs.postgres(f"bench_export_{size}")
            )
            started = time.monotonic()
            generate_responses(url, size)
            generated = time.monotonic() - started
            env = {"SURVEY_DATABASE_URL": url}
            out = str(workdir / "out.csv")
            cli = [timed([SURVEY, "export", SLUG, "-o", out], env) for _ in range(repeats)]
            lines = Path(out).read_bytes().count(b"\r\n") - 1
            if kind == "sqlite":
                ref_command = [
                    "sqlite3",
                    "-csv",
                    "-header",
                    url.removeprefix("sqlite:///"),
                    "SELECT * FROM flat",
                ]
            else:
                psql_url = url.replace("postgresql+psycopg", "postgresql")
                ref_command = [
                    "psql",
                    psql_url,
                    "-q",
                    "-c",
                    f"\\copy (SELECT * FROM flat) TO '{out}.ref' CSV HEADER",
                ]
            reference_runs = []
            for _ in range(repeats):
                if kind == "sqlite":
                    with open(f"{out}.ref", "w") as handle:
                        start = time.monotonic()
                        subprocess.run(ref_command, stdout=handle, check=True)
                        reference_runs.append(time.monotonic() - start)
                else:
                    reference_runs.append(timed(ref_command)[0])
            http_runs = []
            token_env = {**os.environ, **env}
            token = subprocess.run(
                [SURVEY, "token", "create", "bench"],
                env=token_env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[-1]
            for _ in range(repeats):
                with serve([SURVEY, "serve", "--port", "{port}"], env, "/healthz") as (base, pid):
                    start = time.monotonic()
                    subprocess.run(
                        [
                            "curl",
                            "-sf",
                            "-o",
                            out,
                            "-H",
                            f"Authorization: Bearer {token}",
                            f"{base}/api/surveys/{SLUG}/responses.csv",
                        ],
                        check=True,
                    )
                    http_runs.append((time.monotonic() - start, worker_peak_rss_mb(pid)))
            cli_s = statistics.median(s for s, _ in cli)
            ref_s = statistics.median(reference_runs)
            results[f"{kind}_{size}"] = {
                "rows": lines,
                "generate_seconds": generated,
                "cli_seconds": {
                    "median": cli_s,
                    "min": min(s for s, _ in cli),
                    "max": max(s for s, _ in cli),
                },
                "cli_peak_rss_mb": max(m for _, m in cli),
                "http_seconds": statistics.median(s for s, _ in http_runs),
                "http_server_peak_rss_mb": max(m for _, m in http_runs),
                "reference_seconds": ref_s,
                "cli_vs_reference": cli_s / ref_s,
            }
    return results


def bench_cold_start(repeats: int, dbs: Databases) -> dict[str, Any]:
    url = dbs.sqlite("cold")
    prepare_product_db(url)
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        with serve([SURVEY, "serve", "--port", "{port}"], {"SURVEY_DATABASE_URL": url}, "/healthz"):
            times.append(time.monotonic() - start)
    return {"seconds": {"median": statistics.median(times), "min": min(times), "max": max(times)}}


def bench_staff(size: int, repeats: int, dbs: Databases) -> dict[str, Any]:
    """The staff pages over a survey with ``size`` responses, through `survey
    serve` and a signed-in session: the summary (plain, filtered, searched),
    the first and a far page of the table, and each download."""
    import http.cookiejar

    results: dict[str, Any] = {}
    password = "bench password, long enough"
    for kind in ("sqlite", "postgresql"):
        url = (
            dbs.sqlite(f"staff{size}") if kind == "sqlite" else dbs.postgres(f"bench_staff_{size}")
        )
        generate_responses(url, size)
        env = {"SURVEY_DATABASE_URL": url}
        subprocess.run(
            [SURVEY, "user", "create", "bench@example.org", "--role", "admin", "--password-stdin"],
            env={**os.environ, **env},
            input=password.encode(),
            check=True,
            capture_output=True,
        )
        with serve(product(1, url), env, "/healthz") as (base, _pid):
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
            )
            page = opener.open(f"{base}/admin/login").read().decode()
            token = re.search(r'name="_sign_in" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            form = urllib.parse.urlencode(
                {"email": "bench@example.org", "password": password, "_sign_in": token}
            ).encode()
            try:
                opener.open(f"{base}/admin/login", data=form)
            except urllib.error.HTTPError as exc:
                if exc.code != 303:
                    raise

            def timed_get(
                path: str, runs: int, opener: urllib.request.OpenerDirector = opener
            ) -> dict[str, float]:
                times = []
                for _ in range(runs):
                    start = time.monotonic()
                    with opener.open(base + path) as response:
                        assert response.status == 200, (path, response.status)
                        response.read()
                    times.append(time.monotonic() - start)
                return {
                    "median": statistics.median(times),
                    "min": min(times),
                    "max": max(times),
                }

            prefix = f"/admin/surveys/{SLUG}"
            results[kind] = {
                "responses": size,
                "summary": timed_get(f"{prefix}/summary", 5),
                "summary_filtered": timed_get(f"{prefix}/summary?f.visits_libraries=often", 5),
                "summary_searched": timed_get(f"{prefix}/summary?q=number+99", 5),
                "table_first_page": timed_get(f"{prefix}/responses", 5),
                "table_page_1000": timed_get(f"{prefix}/responses?before={size - 50 * 999}", 5)
                if size > 50 * 1000
                else None,
                "download_csv": timed_get(f"{prefix}/download?format=csv", repeats),
                "download_csv_columns": timed_get(
                    f"{prefix}/download?format=csv&multi=columns", repeats
                ),
                "download_jsonl": timed_get(f"{prefix}/download?format=jsonl", repeats),
                "download_xlsx": timed_get(f"{prefix}/download?format=xlsx", repeats),
            }
    return results


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def table(results: dict[str, Any]) -> str:
    lines = ["| benchmark | product | reference | ratio |", "| --- | --- | --- | --- |"]
    form = results.get("form_page", {})
    for workers in (1, 2):
        r = form.get(f"{workers}_workers")
        if r:
            p, ref = r["product"], r["reference"]
            lines.append(
                f"| GET form page, {workers} worker(s), req/s (p50 / p99 ms) | "
                f"{p['rps']['median']:,.0f} ({p['rps']['min']:,.0f}–{p['rps']['max']:,.0f}; "
                f"{p['p50_ms']['median']:.1f} / {p['p99_ms']['median']:.1f}) | "
                f"{ref['rps']['median']:,.0f} ({ref['p50_ms']['median']:.1f} / "
                f"{ref['p99_ms']['median']:.1f}) | {r['ratio']:.2f}× |"
            )
    for key, r in results.get("submissions", {}).items():
        if key.endswith("scaling"):
            lines.append(
                f"| {key.replace('_', ' ')}: 1 → 2 workers | {r['api']:.2f}× | "
                f"{r['reference_raw']:.2f}× (raw) | |"
            )
            continue
        for name in ("api", "form"):
            p = r[name]
            lines.append(
                f"| POST {name} {key.replace('_', ' ')}, stored/s (p50 / p99 ms) | "
                f"{p['rps']['median']:,.0f} ({p['rps']['min']:,.0f}–{p['rps']['max']:,.0f}; "
                f"{p['p50_ms']['median']:.1f} / {p['p99_ms']['median']:.1f}) | "
                f"raw {r['reference_raw']['rps']['median']:,.0f}, session "
                f"{r['reference_session']['rps']['median']:,.0f} | "
                f"{r[name + '_vs_raw']:.2f}× raw"
                + (f", {r['api_vs_session']:.2f}× session" if name == "api" else "")
                + (" LOST: " + "; ".join(r["lost"]) if r["lost"] else "")
                + " |"
            )
    for key, r in results.get("export", {}).items():
        lines.append(
            f"| export {key.replace('_', ' ')} rows: CLI s (peak RSS) / HTTP s (server RSS) | "
            f"{r['cli_seconds']['median']:.2f} ({r['cli_peak_rss_mb']:.0f} MB) / "
            f"{r['http_seconds']:.2f} ({r['http_server_peak_rss_mb']:.0f} MB) | "
            f"{r['reference_seconds']:.2f} | {r['cli_vs_reference']:.2f}× |"
        )
    for kind, r in results.get("staff", {}).items():
        for name, value in r.items():
            if isinstance(value, dict):
                lines.append(
                    f"| staff {name.replace('_', ' ')}, {r['responses']:,} responses, "
                    f"{kind}, s | {value['median']:.3f} ({value['min']:.3f}–{value['max']:.3f}) "
                    "| | |"
                )
    for key, r in results.get("webhook", {}).items():
        for name in ("none", "webhook", "delivered_inline"):
            p = r[name]
            ratio = "" if name == "none" else f"{r[name + '_vs_none']:.2f}× none"
            lines.append(
                f"| POST api {key.replace('_', ' ')}, webhook: {name.replace('_', ' ')}, "
                f"stored/s (p50 / p99 ms) | {p['rps']['median']:,.0f} "
                f"({p['rps']['min']:,.0f}–{p['rps']['max']:,.0f}; "
                f"{p['p50_ms']['median']:.1f} / {p['p99_ms']['median']:.1f}) | | {ratio} |"
            )
    cold = results.get("cold_start")
    if cold:
        lines.append(
            f"| cold start to first /healthz 200, s | {cold['seconds']['median']:.2f} | | |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="100000,1000000", help="export sizes")
    parser.add_argument("--staff-size", type=int, default=100_000, help="responses")
    parser.add_argument("--only", default="form,submit,export,staff,cold,webhook")
    parser.add_argument(
        "--loop",
        choices=LOOPS,
        default="auto",
        help="survey serve --loop, for the product and the references alike",
    )
    args = parser.parse_args()
    global LOOP  # one choice for the whole run
    LOOP = args.loop
    for tool in ("wrk", "sqlite3", "psql", "curl", "/usr/bin/time"):
        if shutil.which(tool) is None:
            sys.exit(
                f"bench needs {tool} (apt-get install wrk sqlite3 postgresql-client curl time)"
            )
    postgres = os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    only = set(args.only.split(","))
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "uname": " ".join(os.uname()),
            "python": sys.version.split()[0],
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "connections": CONNECTIONS,
        "seconds_per_run": args.seconds,
        "repeats": args.repeats,
        "loop": args.loop,
    }
    steps: list[tuple[str, str, Callable[[], Any]]] = []
    with tempfile.TemporaryDirectory(prefix="survey-bench-") as tmp:
        workdir = Path(tmp)
        dbs = Databases(workdir, postgres)
        steps = [
            ("form", "form_page", lambda: bench_form_page(args.seconds, args.repeats, dbs)),
            (
                "submit",
                "submissions",
                lambda: bench_submissions(args.seconds, args.repeats, dbs, workdir),
            ),
            (
                "export",
                "export",
                lambda: bench_export(
                    [int(s) for s in args.sizes.split(",")], args.repeats, dbs, workdir
                ),
            ),
            ("staff", "staff", lambda: bench_staff(args.staff_size, args.repeats, dbs)),
            ("cold", "cold_start", lambda: bench_cold_start(5, dbs)),
            (
                "webhook",
                "webhook",
                lambda: bench_webhook(args.seconds, args.repeats, dbs, workdir),
            ),
        ]
        try:
            for flag, key, step in steps:
                if flag in only:
                    print(f"running {key}...", file=sys.stderr, flush=True)
                    results[key] = step()
        finally:
            dbs.drop_all()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()

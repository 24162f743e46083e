"""The export's memory must not grow with the number of responses."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from survey.db import Database
from survey.definitions import load_file
from survey.settings import Settings
from tests.helpers import BUNDLED, load

pytestmark = pytest.mark.slow

MEASURE = """
import resource, sys
from survey.cli import main
code = main(["export", "libraries-abroad", "-o", sys.argv[1]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
sys.exit(code)
"""


def add_rows(path: Path, count: int) -> None:
    answers = json.dumps(
        {
            "visits_libraries": "often",
            "lessons": "Story walks and maker spaces " * 8,
            "resources": ["webinars", "other"],
            "resources_other": "Mentoring",
            "quote_consent": True,
        }
    )
    with sqlite3.connect(path) as conn:
        survey_id, version_id = conn.execute(
            "SELECT s.id, v.id FROM survey s JOIN survey_version v ON v.survey_id = s.id"
        ).fetchone()
        conn.executemany(
            "INSERT INTO response (survey_id, survey_version_id, submitted_at, answers) "
            "VALUES (?, ?, '2026-11-28 12:00:00.000000', ?)",
            ((survey_id, version_id, answers) for _ in range(count)),
        )


def peak_mb(database_url: str, out: Path) -> int:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(out)],
        env={"SURVEY_DATABASE_URL": database_url, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.split()[-1])


def test_peak_memory_is_flat_from_10k_to_100k_rows(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "big.db"
    shutil.copy(migrated_sqlite_template, path)
    url = f"sqlite:///{path}"
    database = Database(Settings(database_url=url))
    load(database, load_file(BUNDLED))
    database.dispose()
    add_rows(path, 10_000)
    small = peak_mb(url, tmp_path / "small.csv")
    add_rows(path, 90_000)
    large = peak_mb(url, tmp_path / "large.csv")
    assert (tmp_path / "large.csv").read_bytes().count(b"\r\n") == 100_001
    assert large - small < 15, f"peak RSS grew from {small} MB to {large} MB"

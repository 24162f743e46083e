"""A wheel built with `pip install .` must carry its templates, static files,
migrations and bundled surveys, and work from any folder."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.helpers import Server

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("reader_survey-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "survey/_templates/public/form.html",
        "survey/_templates/errors/error.html",
        "survey/_alembic/env.py",
        "survey/static/survey.css",
        "survey/static/staff.css",
        "survey/static/charts.css",
        "survey/surveys/libraries-abroad.yaml",
    ):
        assert expected in names
    assert any(n.startswith("survey/_alembic/versions/") for n in names)
    site = out / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return site


def test_the_installed_wheel_serves_from_another_folder(
    installed_wheel: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "extra.yaml").write_text(
        "slug: extra\ntitle: An extra survey\n"
        "questions: [{key: a, type: yes_no, label: Extra question}]\n"
    )
    env = {
        "PYTHONPATH": str(installed_wheel),
        "SURVEY_DATABASE_URL": "sqlite:///./survey.db",
        "SURVEY_DEFINITIONS_DIR": str(surveys),
    }
    where = subprocess.run(
        [sys.executable, "-c", "import survey; print(survey.__file__)"],
        env=env,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(installed_wheel))
    server = Server([sys.executable, "-m", "survey"], env, cwd=str(elsewhere))
    try:
        server.wait_ready()
        with urllib.request.urlopen(f"{server.url}/s/libraries-abroad") as response:
            assert "Are you visiting other libraries" in response.read().decode()
        with urllib.request.urlopen(f"{server.url}/s/extra") as response:
            assert "Extra question" in response.read().decode()
        with urllib.request.urlopen(f"{server.url}/static/survey.css") as response:
            assert response.status == 200
    finally:
        server.stop()
    assert (elsewhere / "survey.db").exists()

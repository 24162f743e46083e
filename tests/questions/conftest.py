"""A survey with a matrix and a ranking, loaded into the test database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from survey.db import Database
from survey.definitions import SurveyDefinition
from tests.helpers import ADMIN_EMAIL, create_staff, definition_from, load, sign_in

SLUG = "grid"
GRID = """
slug: grid
title: {en: Our library programmes, ar: برامج مكتبتنا}
lang: en
questions:
  - key: programmes
    type: matrix
    required: true
    label: {en: "How useful were these?", ar: "ما مدى فائدة هذه؟"}
    rows:
      - value: story_time
        label: {en: Story time, ar: وقت القصة}
      - value: maker
        label: {en: Maker space, ar: مساحة الصناعة}
    columns:
      - value: not
        label: {en: Not useful, ar: غير مفيد}
      - value: some
        label: {en: Somewhat useful, ar: مفيد نوعا ما}
      - value: very
        label: {en: Very useful, ar: مفيد جدا}
  - key: priorities
    type: ranking
    label: {en: "What should we do first?", ar: "ماذا نفعل أولا؟"}
    max_ranked: 2
    options:
      - value: books
        label: {en: More books, ar: كتب أكثر}
      - value: hours
        label: {en: Longer hours, ar: ساعات أطول}
      - value: events
        label: {en: "=Events", ar: فعاليات}
"""


@pytest.fixture
def grid(database: Database) -> SurveyDefinition:
    definition = definition_from(GRID)
    load(database, definition)
    return definition


@pytest.fixture
def admin(client: TestClient, database: Database, grid: SurveyDefinition) -> TestClient:
    create_staff(database, ADMIN_EMAIL, "admin")
    assert sign_in(client, ADMIN_EMAIL).status_code == 303
    return client

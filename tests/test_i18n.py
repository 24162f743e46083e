"""Languages: the catalogues are complete, survey files carry translations,
and the reader's language is chosen, kept and stored."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from survey.definitions import DefinitionError
from survey.i18n import Message, choose, parse_accept_language, translate
from tests.helpers import definition_from

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

TRANSLATED = """\
slug: reading
lang: en
title: {en: Reading habits, es: Hábitos de lectura, fr: Habitudes de lecture, ar: عادات القراءة}
questions:
  - key: often
    type: single_choice
    required: true
    label:
      en: How often do you read?
      es: ¿Con qué frecuencia lee?
      fr: À quelle fréquence lisez-vous ?
      ar: كم مرة تقرأ؟
    options:
      - {value: daily, label: {en: Every day, es: Cada día, fr: Tous les jours, ar: كل يوم}}
      - {value: weekly, label: {en: Every week, es: Cada semana, fr: Chaque semaine}}
  - key: where
    type: country
    label: {en: "Where are you?", es: "¿Dónde está?", fr: "Où êtes-vous ?", ar: "أين أنت؟"}
"""


def extracted_msgids(tmp_path: Path) -> set[str | tuple[str, ...]]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.mark.parametrize("lang", ["es", "fr", "ar"])
def test_every_interface_string_is_translated(lang: str, tmp_path: Path) -> None:
    wanted = extracted_msgids(tmp_path)
    assert len(wanted) > 60  # the extraction really finds the strings
    with (ROOT / f"survey/locale/{lang}/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    have = {m.id: m.string for m in catalog if m.id}
    assert sorted(wanted - set(have)) == []
    for msgid in wanted:
        forms = have[msgid] if isinstance(have[msgid], tuple) else (have[msgid],)
        source = msgid[-1] if isinstance(msgid, tuple) else msgid
        assert len(forms) == (catalog.num_plurals if isinstance(msgid, tuple) else 1), msgid
        for form in forms:
            assert form, f"{lang}: no translation of {msgid!r}"
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(source)), msgid


def test_no_compiled_catalogue_is_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.mo"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    assert tracked == ""


def test_messages_stay_english_for_the_api_and_translate_on_pages() -> None:
    message = Message("Choose a rating from 1 to %(scale)s", scale=5)
    assert message == "Choose a rating from 1 to 5"
    assert translate(message, "fr") == "Choisissez une note de 1 à 5"
    assert translate(message, "ar") == "اختر تقييمًا من 1 إلى 5"
    assert translate("an answer, not a message", "ar") == "an answer, not a message"


def test_accept_language_is_read_by_quality() -> None:
    assert parse_accept_language("fr-CA;q=0.8, ar;q=0.9, en;q=0.1, *;q=0") == [
        "ar",
        "fr",
        "en",
    ]
    assert choose(None, "de, fr;q=0.5", ["en", "fr", "ar"]) == "fr"
    assert choose("ar", "fr", ["en", "fr", "ar"]) == "ar"  # ?lang= wins
    assert choose("xx", "de", ["es", "en"]) == "es"  # else the survey's own language


def test_a_survey_carries_translations_with_fallback_per_text() -> None:
    definition = definition_from(TRANSLATED)
    assert definition.title == "Reading habits"
    assert definition.languages == ["en", "es", "fr", "ar"]
    arabic = definition.localized("ar")
    assert arabic.title == "عادات القراءة"
    assert arabic.questions[0].options[0].label == "كل يوم"  # type: ignore[union-attr]
    assert arabic.questions[0].options[1].label == "Every week"  # type: ignore[union-attr]
    assert definition.missing_translations() == {"ar": ["questions.often.options.weekly"]}
    # Translations are texts, not questions: they do not make a new version.
    plain = definition_from(TRANSLATED.replace(", ar: كل يوم", ""))
    assert plain.questions_fingerprint() == definition.questions_fingerprint()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("title: {en: A, de: B}", "de is not one of the languages"),
        ("title: {fr: A}", "the text in the survey's language (en) is missing"),
        ("lang: de\ntitle: A", "lang"),
    ],
)
def test_a_bad_translation_is_named(text: str, problem: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        definition_from(f"slug: x\n{text}\nquestions: [{{key: a, type: yes_no, label: A}}]\n")
    assert problem in str(caught.value)

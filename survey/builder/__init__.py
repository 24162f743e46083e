"""The builder's work on a survey, without HTTP or SQL.

A draft is a survey file's document (what ``survey load`` reads: texts as
plain strings or ``{lang: text}``), so that publishing a draft and loading a
file are one path, and a draft downloads as the file it would be.  The staff
pages turn form fields into changes of that document here; what a change
may not do (rename a key that has answers, change its type, drop an
option's value, move a follow-up above its question) is decided here too.

documents.py: the document, its file, its texts and settings;
questions.py: a question form's fields, and the question it describes.
"""

from survey.builder.documents import (
    Document,
    Fields,
    Refusal,
    apply_settings,
    change_message,
    change_record,
    changed_types,
    check,
    check_slug,
    chosen_languages,
    file_document,
    first,
    new_document,
    slug_from,
    text_in,
    texts_from,
    to_yaml,
)
from survey.builder.questions import (
    KIND_NAMES,
    NEW_OPTION_ROWS,
    FieldSpec,
    QuestionValues,
    kind_fields,
    move,
    options_from_form,
    parse_question,
    question_from_form,
    remove,
    show_if_choices,
)

__all__ = [
    "KIND_NAMES",
    "NEW_OPTION_ROWS",
    "Document",
    "FieldSpec",
    "Fields",
    "QuestionValues",
    "Refusal",
    "apply_settings",
    "change_message",
    "change_record",
    "changed_types",
    "check",
    "check_slug",
    "chosen_languages",
    "file_document",
    "first",
    "kind_fields",
    "move",
    "new_document",
    "options_from_form",
    "parse_question",
    "question_from_form",
    "remove",
    "show_if_choices",
    "slug_from",
    "text_in",
    "texts_from",
    "to_yaml",
]

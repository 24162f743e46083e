"""Every query and every write, one module per kind of thing stored.

Functions here add and flush; they never commit: the request (or CLI
command) commits once, after everything is checked.  They take their
arguments by keyword.  Callers use the names below (``store.get_survey``);
each lives in the module its docstring names.
"""

from survey.store.erasure import count_by_email, erase_by_email, purge_expired
from survey.store.exports import iter_export_rows
from survey.store.filters import filter_sql, where_sql
from survey.store.health import probe_write
from survey.store.ratelimits import count_hit, purge_hits
from survey.store.responses import (
    AnswerRow,
    NewResponse,
    SurveyCounts,
    count_responses,
    delete_response,
    get_response,
    insert_response,
    insert_responses,
    iter_answer_rows,
    page_of_responses,
    survey_counts,
)
from survey.store.secrets import app_secret
from survey.store.spam import (
    count_spam,
    delete_spam,
    get_spam,
    insert_spam,
    list_spam,
    purge_spam,
)
from survey.store.staff import (
    TOKEN_PREFIX,
    audit,
    audit_page,
    create_session,
    create_token,
    create_user,
    disable_user,
    enable_user,
    end_session,
    find_active_token,
    find_session,
    find_user,
    get_user,
    hash_token,
    list_tokens,
    list_users,
    purge_sessions,
    recent_failures,
    revoke_token,
)
from survey.store.summaries import answer_groups, latest_answers
from survey.store.surveys import (
    LoadResult,
    current_version,
    get_survey,
    get_version,
    list_surveys,
    load_definition,
    survey_versions,
)

__all__ = [
    "TOKEN_PREFIX",
    "AnswerRow",
    "LoadResult",
    "NewResponse",
    "SurveyCounts",
    "answer_groups",
    "app_secret",
    "audit",
    "audit_page",
    "count_by_email",
    "count_hit",
    "count_responses",
    "count_spam",
    "create_session",
    "create_token",
    "create_user",
    "current_version",
    "delete_response",
    "delete_spam",
    "disable_user",
    "enable_user",
    "end_session",
    "erase_by_email",
    "filter_sql",
    "find_active_token",
    "find_session",
    "find_user",
    "get_response",
    "get_spam",
    "get_survey",
    "get_user",
    "get_version",
    "hash_token",
    "insert_response",
    "insert_responses",
    "insert_spam",
    "iter_answer_rows",
    "iter_export_rows",
    "latest_answers",
    "list_spam",
    "list_surveys",
    "list_tokens",
    "list_users",
    "load_definition",
    "page_of_responses",
    "probe_write",
    "purge_expired",
    "purge_hits",
    "purge_sessions",
    "purge_spam",
    "recent_failures",
    "revoke_token",
    "survey_counts",
    "survey_versions",
    "where_sql",
]

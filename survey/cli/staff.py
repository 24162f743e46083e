"""The commands about staff: API tokens and accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta

from survey import store
from survey.accounts import check_new_account, hash_password, password_problem
from survey.cli.common import CommandError, database_for, require_survey
from survey.models import utcnow
from survey.settings import Settings


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    if args.expires_in_days is not None and args.expires_in_days < 1:
        raise CommandError("--expires-in-days must be 1 or more")
    with database_for(settings) as database, database.begin(write=True) as session:
        owner = store.find_user(session, email=args.owner) if args.owner else None
        if args.owner and (owner is None or owner.disabled_at is not None):
            raise CommandError(f"there is no active staff account {args.owner!r}")
        survey = require_survey(session, args.survey) if args.survey else None
        expires_at = (
            utcnow() + timedelta(days=args.expires_in_days) if args.expires_in_days else None
        )
        token, plain = store.create_token(
            session,
            name=args.name,
            owner_id=owner.id if owner else None,
            survey_id=survey.id if survey else None,
            expires_at=expires_at,
        )
        store.audit(session, action="token_create", actor="cli", token_id=token.id, name=args.name)
    print(f"Created API token {token.name!r} (id {token.id}). It is shown only this once:")
    print(plain)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise CommandError("the two passwords differ; nothing was created")
    return first


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)
    email, problems = check_new_account(args.email, args.role, password)
    if problems:
        raise CommandError("; ".join(problems.values()))
    with database_for(settings) as database, database.begin(write=True) as session:
        if store.find_user(session, email=email) is not None:
            raise CommandError(f"there is already an account for {email}")
        store.create_user(
            session, email=email, password_hash=hash_password(password), role=args.role
        )
        store.audit(session, action="user_create", actor="cli", user=email, role=args.role)
    print(f"Created {args.role} {email}; they can sign in at /admin/login")
    return 0


def _user_set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)
    email = args.email.strip().lower()
    problem = password_problem(password, email=email)
    if problem:
        raise CommandError(str(problem))
    with database_for(settings) as database, database.begin(write=True) as session:
        user = store.find_user(session, email=email)
        if user is None:
            raise CommandError(f"there is no account for {email}")
        store.set_password(session, user=user, password_hash=hash_password(password))
        store.audit(session, action="password_reset", actor="cli", user=user.email)
    print(f"New password set for {user.email}; their sessions have ended")
    return 0


def _user_list(args: argparse.Namespace, settings: Settings) -> int:
    with database_for(settings) as database, database.session() as session:
        users = store.list_users(session)
    if not users:
        print("no staff accounts yet: survey user create EMAIL --role admin")
    for user in users:
        state = "disabled" if user.disabled_at else "active"
        last = (
            user.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_sign_in_at else "never"
        )
        print(f"{user.email}\t{user.role}\t{state}\tlast sign-in: {last}")
    return 0


def _user_disable(args: argparse.Namespace, settings: Settings) -> int:
    with database_for(settings) as database, database.begin(write=True) as session:
        user = store.find_user(session, email=args.email)
        if user is None:
            raise CommandError(f"there is no account for {args.email}")
        store.disable_user(session, user=user)
        store.audit(session, action="user_disable", actor="cli", user=user.email)
    print(f"Disabled {user.email}; their sessions have ended")
    return 0

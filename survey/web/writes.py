"""Group commit: the submissions that arrive while one commit is on disk are
stored together in the next transaction.

With SQLite's ``synchronous=FULL`` (and PostgreSQL's default
``synchronous_commit``) every commit waits for the disk; under a burst of
submissions that wait, not the work, sets the pace.  Each process therefore
writes in batches: one transaction, one INSERT per response, one commit, and
only then is every request in the batch answered.  A response is still stored
whole or not at all and acknowledged only after its commit.  If a batch
fails, each of its responses is retried in a transaction of its own, so one
bad row never takes the others down with it.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime
from typing import Unpack

from survey import store
from survey.db import Database
from survey.models import utcnow
from survey.ratelimit import LimitCheck, RateLimited
from survey.store.responses import NewResponse

Stored = tuple[int, datetime]
Refusal = RateLimited | store.SurveyFull
Pending = tuple[NewResponse, "LimitCheck | None", "int | None", "asyncio.Future[Stored]"]


class ResponseWriter:
    def __init__(self, database: Database, *, mail: bool = False) -> None:
        self.database = database
        self.mail = mail  # also enqueue the emails of staff who want one per response
        self._pending: list[Pending] = []
        self._draining = False

    async def insert(
        self,
        *,
        limit: LimitCheck | None = None,
        cap: int | None = None,
        **row: Unpack[NewResponse],
    ) -> Stored:
        """Store a response; raises RateLimited (storing nothing) when
        ``limit`` says the client has sent too many in this window, and
        store.SurveyFull when the survey already has ``cap`` responses."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._pending.append((row, limit, cap, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        # shield: a client that hangs up must not cancel the batch it is in.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await self.database.run(functools.partial(self._write, batch))
                except Exception:
                    await self._one_by_one(batch)
                    continue
                for (_, _, _, future), result in zip(batch, results, strict=True):
                    _settle(future, result)
        finally:
            self._draining = False

    async def _one_by_one(self, batch: list[Pending]) -> None:
        for item in batch:
            future = item[3]
            try:
                [result] = await self.database.run(functools.partial(self._write, [item]))
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                _settle(future, result)

    def _write(self, batch: list[Pending]) -> list[Stored | Refusal]:
        results: list[Stored | Refusal | None] = []
        with self.database.write_connection() as conn:
            accepted: list[NewResponse] = []
            for row, limit, cap, _future in batch:
                if limit is not None:
                    # Counted in the same transaction as the response: no extra commit.
                    hits = store.count_hit(
                        conn, client_key=limit.client_key, window_start=limit.window_start
                    )
                    if hits > limit.allowed:
                        results.append(RateLimited(limit.retry_after(utcnow())))
                        continue
                if cap is not None:
                    # Counted and stored at once, each in turn: see insert_capped.
                    try:
                        results.append(store.insert_capped(conn, cap, **row))
                    except store.SurveyFull as full:
                        results.append(full)
                    continue
                results.append(None)
                accepted.append(row)
            stored = iter(store.insert_responses(conn, accepted))
            done = [next(stored) if result is None else result for result in results]
            # The outbox: each stored response's webhook deliveries, in this
            # same transaction (committed with it, or not at all).
            store.enqueue(
                conn,
                [
                    store.StoredResponse(result[0], row["survey_id"])
                    for (row, _, _, _), result in zip(batch, done, strict=True)
                    if isinstance(result, tuple)
                ],
                mail=self.mail,
            )
        return done


def _settle(future: asyncio.Future[Stored], result: Stored | Refusal) -> None:
    if future.done():
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)

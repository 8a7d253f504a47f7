"""Group commit: many small writes of the same kind stored in one transaction.

A burst of requests that each write a few rows (ballots) spends most of its time on what every
transaction pays once: the commit (a disk flush), the pool, and the locks around it (the audit
chain's head). ``GroupCommit.run(work)`` queues ``work``; one task per process drains the queue.
While a batch commits, the next requests queue up, so the batch grows with the load and a lone
request is stored at once, with no waiting for company.

The guarantees each caller keeps:

* ``run`` returns only after the transaction that holds its work has committed (an answer means
  the rows are stored);
* each item runs in its own savepoint: an item that fails is rolled back alone and its caller gets
  its own error; the others are committed;
* an item that lost a race (``retryable``) is run again alone, with ``with_retries``; when the
  batch itself cannot commit, every item of it is run again alone, so each caller gets the answer
  its own request deserves (work must be safe to run again: decide from what it reads, as for
  ``with_retries``);
* on SQLite each item is its own transaction (its driver cannot hold savepoints inside one);
* with ``many``, a batch's items are stored by one call instead of one savepoint each:
  ``many`` checks every item first and answers the refused ones with their own errors (or a
  ``Retry`` for an item to run again alone), and then writes all the others together; whatever
  it raises fails the batch, whose items then run alone as above;
* the items of a batch run in a random order, so the order of rows, log entries and commits
  inside a batch says nothing about the order in which the requests arrived.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from summit.core.db import Database, retryable, with_retries

T = TypeVar("T")

#: At most this many items in one transaction (a bound on its locks and on the wait of the last).
MAX_BATCH = 200

Work = Callable[[AsyncSession], Awaitable[T]]
Finish = Callable[[AsyncSession, list[T]], Awaitable[None]]
#: Stores a batch's items in one go: per item its value or the error that refuses it (a
#: ``retryable`` one: run it again alone); ``None`` when it cannot take these items (they then
#: run in a savepoint each).
Many = Callable[[AsyncSession, list[Work[T]]], Awaitable[list[T | BaseException] | None]]


@dataclass
class _Item(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    value: Any = None
    error: BaseException | None = None
    again: bool = False  # lost a race: run alone after the batch
    done: bool = field(default=False)


class GroupCommit(Generic[T]):
    """Queue ``work`` items and store them in shared transactions (see the module text).

    ``finish(session, values)`` runs once per batch, after its items and inside the same
    transaction, with the values of the items that succeeded (in the batch's order): what they
    share, such as their audit entries, is written there. If ``finish`` fails, the batch is not
    committed and every item is run again alone (``finish`` is then called with one value).
    """

    def __init__(
        self,
        database: Database,
        *,
        finish: Finish[T] | None = None,
        many: Many[T] | None = None,
        field_name: str = "request",
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.db = database
        self.finish = finish
        self.many = many
        self.field = field_name
        self.max_batch = max_batch
        self._queue: list[_Item[T]] = []
        self._drainer: asyncio.Task[None] | None = None
        #: Sizes of the batches committed so far (for tests and benchmarks).
        self.batches: list[int] = []

    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in the next batch; returns its value once that batch has committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Item(work, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        # A caller that goes away (a closed connection) does not cancel the batch it is in.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self.max_batch]
            del self._queue[: len(batch)]
            secrets.SystemRandom().shuffle(batch)
            if not self.db.is_postgresql:
                # SQLite's driver commits when the outermost savepoint is released, so a batch
                # would not be one transaction there: each item is its own (SQLite serialises
                # writers anyway).
                await asyncio.gather(*(self._alone(item) for item in batch))
                continue
            try:
                await self._commit(batch)
            except Exception:
                await asyncio.gather(*(self._alone(item) for item in batch if not item.done))
            else:
                self.batches.append(len(batch))
                for item in batch:
                    self._settle(item)
                again = [item for item in batch if item.again]
                await asyncio.gather(*(self._alone(item) for item in again))

    async def _commit(self, batch: list[_Item[T]]) -> None:
        async with self.db.session() as session:
            stored = None
            if self.many is not None:
                stored = await self.many(session, [item.work for item in batch])
            if stored is not None:
                for item, answer in zip(batch, stored, strict=True):
                    if not isinstance(answer, BaseException):
                        item.value = answer
                    elif retryable(answer):
                        item.again = True
                    else:
                        item.error = answer
            else:
                for item in batch:
                    await self._savepoint(session, item)
            values = [item.value for item in batch if not item.again and item.error is None]
            if values and self.finish is not None:
                await self.finish(session, values)

    async def _savepoint(self, session: AsyncSession, item: _Item[T]) -> None:
        try:
            async with session.begin_nested():
                item.value = await item.work(session)
        except Exception as exc:
            session.info.pop("advisory_locks", None)  # a rollback released them
            if retryable(exc):
                item.again = True
            else:
                item.error = exc

    def _settle(self, item: _Item[T]) -> None:
        if item.again:
            return
        item.done = True
        if item.future.done():
            return
        if item.error is not None:
            item.future.set_exception(item.error)
        else:
            item.future.set_result(item.value)

    async def _alone(self, item: _Item[T]) -> None:
        """Run one item in a transaction of its own (``with_retries``)."""
        item.done = True

        async def work(session: AsyncSession) -> T:
            value = await item.work(session)
            if self.finish is not None:
                await self.finish(session, [value])
            return value

        try:
            value = await with_retries(self.db, work, field=self.field)
        except Exception as exc:
            if not item.future.done():
                item.future.set_exception(exc)
        else:
            if not item.future.done():
                item.future.set_result(value)

"""The rows of the executions this process is advancing, as it last committed them.

Committing a step's outcome reads the execution and its steps, decides, and writes everything
back checked against the versions read (``Database.commit``: optimistic on PostgreSQL, in a
``BEGIN IMMEDIATE`` transaction on SQLite). The read is a round trip on PostgreSQL, two
statements through SQLAlchemy on SQLite, and the largest result of the hot path; when this
process wrote the execution last (it created it, claimed its steps and committed its previous
outcomes, the usual case) it already holds exactly those rows. :class:`CommittedRows` keeps
them, and the committer decides on them without reading.

Nothing here has to be right for the engine to be correct: the write checks every execution
at the version it was decided on, and every writer of an execution's steps bumps that version
(claims, outcomes, cancel, retry, time-outs), so a row another writer changed makes the write
raise ``StaleDataError``; the committer then forgets the rows and redoes the batch from a
fresh read. The one change that leaves the version alone is a lease renewal (the heartbeat;
PostgreSQL also checks the lease of every step row written); the heartbeat therefore forgets
the executions it renews and bumps :attr:`CommittedRows.epoch`, so rows read before a renewal
are not kept. The cache only saves reads: a stale entry costs one failed write, never a wrong
one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from loom.engine.db.rows import ExecutionRow, StepRow


class CommittedRows:
    """Executions and their step rows as last committed by this process.

    Only executions with a step running in this process are kept (their next outcome is
    committed here), at most ``max_rows`` step rows in all, least recently used dropped first.
    The rows are the committer's own objects: it changes them in place while deciding, and
    they are right again once the write succeeds. Whoever changes them without writing them
    (a failed write) must :meth:`forget` them.
    """

    def __init__(self, max_rows: int = 50_000) -> None:
        self._rows: OrderedDict[str, tuple[ExecutionRow, list[StepRow]]] = OrderedDict()
        self._max_rows = max_rows
        self._row_count = 0
        self.epoch = 0  # bumped when leases are renewed (see the module docstring)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, execution_id: object) -> bool:
        return execution_id in self._rows

    def get(
        self, execution_ids: Iterable[str]
    ) -> tuple[dict[str, ExecutionRow], dict[str, list[StepRow]]]:
        """The known executions among ``execution_ids`` and their steps."""
        executions: dict[str, ExecutionRow] = {}
        runs: dict[str, list[StepRow]] = {}
        for execution_id in execution_ids:
            found = self._rows.get(execution_id)
            if found is not None:
                executions[execution_id], runs[execution_id] = found
        return executions, runs

    @property
    def row_count(self) -> int:
        """How many step rows are kept."""
        return self._row_count

    def keep(self, execution: ExecutionRow, runs: list[StepRow]) -> None:
        """Remember rows that were just committed as they are."""
        self.forget((execution.id,))
        if len(runs) > self._max_rows:
            return
        self._rows[execution.id] = (execution, runs)
        self._row_count += len(runs)
        while self._row_count > self._max_rows:
            _, (_, dropped) = self._rows.popitem(last=False)
            self._row_count -= len(dropped)

    def renewing(self, execution_ids: Iterable[str]) -> None:
        """Leases of these executions' steps are being renewed: drop their rows, and make
        rows read by a unit of work running meanwhile unkeepable (see the module docstring)."""
        self.epoch += 1
        self.forget(execution_ids)

    def forget(self, execution_ids: Iterable[str]) -> None:
        """Drop executions (written by someone else, or changed in memory and not written)."""
        for execution_id in execution_ids:
            found = self._rows.pop(execution_id, None)
            if found is not None:
                self._row_count -= len(found[1])

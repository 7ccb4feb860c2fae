"""Find agency copy: MinHash LSH over passages, verified pairs, clusters, containers.

Public entry points (both take a plain sqlite3 connection in autocommit mode to the
database `crawler.store.Store` writes, and keyword parameters from `Params`)::

    dedup.update(conn, **params)   # index + cluster every article not indexed yet
    dedup.rebuild(conn, **params)  # drop the dedup tables and recluster everything

Both return a summary of what they did and the index's totals (`totals=False` leaves
the totals out, which saves counting whole tables on every call); `progress=callback`
is called with a `dedup.engine.Progress` after each batch and step of a commit.

Never imports Scrapy. The tables it writes are described in `dedup.store`. The engine
(numpy, datasketch, numba: about a second of imports) loads on first use, so a command
line that only reads `Params` starts at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dedup.params import Params

if TYPE_CHECKING:
    from dedup.engine import rebuild, update
    from dedup.store import ParamsMismatch

__all__ = ["Params", "ParamsMismatch", "rebuild", "update"]


def __getattr__(name: str) -> Any:
    if name in ("rebuild", "update"):
        from dedup import engine

        return getattr(engine, name)
    if name == "ParamsMismatch":
        from dedup.store import ParamsMismatch

        return ParamsMismatch
    raise AttributeError(f"module 'dedup' has no attribute {name!r}")

"""Find agency copy: MinHash LSH over passages, verified pairs, clusters, containers.

Public entry points (both take a plain sqlite3 connection in autocommit mode to the
database `crawler.store.Store` writes, and keyword parameters from `Params`)::

    dedup.update(conn, **params)   # index + cluster every article not indexed yet
    dedup.rebuild(conn, **params)  # drop the dedup tables and recluster everything

Never imports Scrapy. The tables it writes are described in `dedup.store`.
"""

from __future__ import annotations

from dedup.engine import rebuild, update
from dedup.params import Params
from dedup.store import ParamsMismatch

__all__ = ["Params", "ParamsMismatch", "rebuild", "update"]

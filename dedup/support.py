"""Which LSH entries may propose candidate pairs: live keys and boilerplate passages.

A bucket holding more than `max_bucket` articles is *hot*: boilerplate that survived
cleanup, or a standard paragraph printed under many stories. It proposes no pairs.
Its holders' passages are copies of that boilerplate, and their other band keys are
too: where the lightly edited copies of a standard paragraph lost the same minimum
shingle, they meet in a second bucket that stays small. So a passage with a key in a
hot bucket is *blocked*: none of its keys proposes pairs either. On the synthetic
corpus (bench/gen_corpus.py) such second buckets paired every few hundred holders of
a standard paragraph with each other, a number of pairs growing with the corpus.

The *live* keys of an article are the keys of its passages that are not blocked; two
articles are candidates when they share a live key. Both rules depend only on the
index's bucket sizes, which only grow: a key once dead stays dead, and the engine
takes back pairs whose last shared live key died (see `dedup.engine.pair_window`).
"""

from __future__ import annotations

import numpy as np

from dedup import kernels
from dedup.lsh import LshIndex
from dedup.sketch import unique


def hot_keys(index: LshIndex, keys: np.ndarray, max_bucket: int) -> np.ndarray:
    """The keys among `keys` whose bucket is hot, sorted unique."""
    hot = index.hot(max_bucket)
    uk = unique(keys)
    if not len(hot) or not len(uk):
        return uk[:0]
    pos = np.searchsorted(hot, uk)
    pos[pos == len(hot)] = 0
    return uk[hot[pos] == uk]


def blocked_rows(rows: np.ndarray, hot: np.ndarray) -> np.ndarray:
    """Passages (rows of band keys) with a key in `hot` (sorted)."""
    if not len(hot) or not rows.size:
        return np.zeros(len(rows), dtype=bool)
    return kernels.rows_holding(np.ascontiguousarray(rows, dtype=np.int64), hot.astype(np.int64))


def dead_keys(
    rows: np.ndarray, row_doc: np.ndarray, blocked: np.ndarray
) -> dict[int, set[int]]:
    """Per article with a blocked passage: the keys of blocked passages that none of its
    open passages has (so an entry (key, article) is dead when the key is in its set)."""
    out: dict[int, set[int]] = {}
    b_rows = np.flatnonzero(blocked)
    if not len(b_rows):
        return out
    for d, keys in zip(row_doc[b_rows].tolist(), rows[b_rows].tolist(), strict=True):
        out.setdefault(d, set()).update(keys)
    open_rows = np.flatnonzero(~blocked & np.isin(row_doc, row_doc[b_rows]))
    for d, keys in zip(row_doc[open_rows].tolist(), rows[open_rows].tolist(), strict=True):
        out[d].difference_update(keys)
    return out


def live_triples(
    keys: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    dead: dict[int, set[int]],
    every: np.ndarray | None = None,
) -> np.ndarray:
    """Mask of the (key, article a, article b) meetings where neither entry is dead.

    `every`: all keys of `dead`'s sets, sorted, if the caller keeps them.
    """
    keep = np.ones(len(keys), dtype=bool)
    if not dead or not len(keys):
        return keep
    if every is None:
        every = np.array(sorted(set().union(*dead.values())), dtype=np.int64)
    if not len(every):
        return keep
    pos = np.searchsorted(every, keys)
    pos[pos == len(every)] = 0
    suspects = np.flatnonzero(every[pos] == keys)
    empty: set[int] = set()
    for i, k, x, y in zip(
        suspects.tolist(), keys[suspects].tolist(), a[suspects].tolist(), b[suspects].tolist(),
        strict=True,
    ):
        if k in dead.get(x, empty) or k in dead.get(y, empty):
            keep[i] = False
    return keep


def live_key_sets(
    rows: np.ndarray, row_doc: np.ndarray, blocked: np.ndarray
) -> dict[int, set[int]]:
    """Per article: its live keys (every key of its open passages)."""
    out: dict[int, set[int]] = {}
    open_rows = np.flatnonzero(~blocked)
    for d, keys in zip(row_doc[open_rows].tolist(), rows[open_rows].tolist(), strict=True):
        out.setdefault(d, set()).update(keys)
    return out


class IntSet:
    """A set of non-negative int64 values kept in a compiled open-addressing table
    (`kernels.set_insert`): `add` many at a time, `values` all of them, sorted. Used
    where the same values arrive many times over (a pair meets in many buckets), so
    that they are never all held, duplicates and all, to be sorted."""

    def __init__(self) -> None:
        self.table = np.full(1024, -1, dtype=np.int64)
        self.parts: list[np.ndarray] = []  # the values, as first added
        self.count = 0

    def add(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=np.int64)
        if 2 * (self.count + len(values)) > len(self.table):  # (at most half full)
            size = len(self.table)
            while size < 2 * (self.count + len(values)):
                size *= 2
            self.table = np.full(size, -1, dtype=np.int64)
            held = self.values()
            kernels.set_insert(self.table, held, np.empty(len(held), dtype=np.int64))
        out = np.empty(len(values), dtype=np.int64)
        n = kernels.set_insert(self.table, values, out)
        self.parts.append(out[:n])
        self.count += n

    def values(self) -> np.ndarray:
        """Every value added, once each, ascending."""
        return np.sort(np.concatenate(self.parts)) if self.parts else np.zeros(0, np.int64)

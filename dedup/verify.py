"""Candidate verification: exact shared shingles of two articles, per passage."""

from __future__ import annotations

import numpy as np

from dedup.params import Params
from dedup.relations import Pair
from dedup.sketch import Doc, unique


def passage_hits(doc: Doc, other_set: np.ndarray) -> dict[int, int]:
    """For each passage of `doc`, how many of its shingles are in `other_set` (sorted unique)."""
    if not len(doc.shingles) or not len(other_set):
        return {}
    pos = np.searchsorted(other_set, doc.shingles)
    pos[pos == len(other_set)] = 0
    found = (other_set[pos] == doc.shingles).view(np.int8)
    counts = np.add.reduceat(found, doc.offsets)
    nz = np.flatnonzero(counts)
    return dict(zip(nz.tolist(), counts[nz].tolist(), strict=True))


def verify(
    a: Doc, b: Doc, params: Params, sets: dict[str, np.ndarray] | None = None
) -> Pair | None:
    """The pair of `a` and `b` if they share evidence worth keeping, else None.

    Kept when some passage of either side is matched (>= passage_match of its
    shingles found in the other article): candidates that met on a chance bucket
    collision or share a stray phrase are dropped here.
    """
    if a.id > b.id:
        a, b = b, a
    sa = sets[a.id] if sets is not None else unique(a.shingles)
    sb = sets[b.id] if sets is not None else unique(b.shingles)
    a_hits = passage_hits(a, sb)
    if not a_hits:
        return None
    b_hits = passage_hits(b, sa)
    a_sizes, b_sizes = a.passage_sizes(), b.passage_sizes()
    matched = any(c >= params.passage_match * a_sizes[i] for i, c in a_hits.items()) or any(
        c >= params.passage_match * b_sizes[i] for i, c in b_hits.items()
    )
    return Pair(a.id, b.id, a_hits, b_hits) if matched else None

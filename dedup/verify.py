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


def verify_group(
    a: Doc, partners: list[Doc], params: Params, sets: dict[str, np.ndarray]
) -> list[Pair | None]:
    """`verify(a, b)` for every b in `partners` (all with ids above a's), in a few array
    operations for the whole group instead of a few per pair."""
    k = len(partners)
    if not k or not len(a.shingles):
        return [None] * k
    # a's shingles in each partner: the partners' sets tagged with their number and laid
    # end to end stay sorted, so one search answers every (partner, shingle) question.
    tag = np.arange(k, dtype=np.uint64) << np.uint64(32)
    tagged = np.concatenate([sets[b.id].astype(np.uint64) | t for b, t in zip(partners, tag)])
    asked = (tag[:, None] | a.shingles.astype(np.uint64)[None, :]).ravel()
    if not len(tagged):
        return [None] * k
    pos = np.searchsorted(tagged, asked)
    pos[pos == len(tagged)] = 0
    found = (tagged[pos] == asked).reshape(k, len(a.shingles)).view(np.int8)
    a_counts = np.add.reduceat(found, a.offsets, axis=1)  # (partner, passage of a)
    # Each partner's shingles in a.
    sa = sets[a.id]
    every = np.concatenate([b.shingles for b in partners])
    starts = np.cumsum([0] + [len(b.shingles) for b in partners[:-1]])
    offsets = np.concatenate([b.offsets + s for b, s in zip(partners, starts)])
    if len(sa) and len(every):
        pos = np.searchsorted(sa, every)
        pos[pos == len(sa)] = 0
        hit = (sa[pos] == every).view(np.int8)
        b_counts = np.add.reduceat(hit, offsets) if len(offsets) else np.zeros(0, np.int64)
    else:
        b_counts = np.zeros(len(offsets), np.int64)
    a_sizes = a.passage_sizes()
    out: list[Pair | None] = []
    p0 = 0
    rows, cols = np.nonzero(a_counts)
    vals = a_counts[rows, cols]
    a_hits: list[dict[int, int]] = [{} for _ in range(k)]
    for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True):
        a_hits[r][c] = v
    limit = params.passage_match
    for i, b in enumerate(partners):
        n = b.n_passages
        counts = b_counts[p0 : p0 + n].tolist()
        p0 += n
        ah = a_hits[i]
        if not ah:
            out.append(None)
            continue
        bh = {j: c for j, c in enumerate(counts) if c}
        b_sizes = b.passage_sizes()
        matched = any(c >= limit * a_sizes[j] for j, c in ah.items()) or any(
            c >= limit * b_sizes[j] for j, c in bh.items()
        )
        out.append(Pair(a.id, b.id, ah, bh) if matched else None)
    return out

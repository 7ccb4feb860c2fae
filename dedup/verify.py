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


def verify_pairs(
    pairs: list[tuple[Doc, Doc]], params: Params, sets: dict[str, np.ndarray]
) -> list[Pair | None]:
    """`verify(a, b)` for many pairs (a.id < b.id, both with shingles), with array
    operations over thousands of pairs at a time."""
    out: list[Pair | None] = []
    for c0 in range(0, len(pairs), _PAIR_CHUNK):
        out.extend(_verify_chunk(pairs[c0 : c0 + _PAIR_CHUNK], params, sets))
    return out


_PAIR_CHUNK = 4000


def _side_hits(
    docs: list[Doc], others: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For pair k: how many shingles of each passage of docs[k] are in others[k] (a
    sorted set). Returns (counts per passage, pair of each passage, passage index)."""
    m = len(docs)
    tag = np.arange(m, dtype=np.uint64) << np.uint64(32)
    set_len = np.array([len(o) for o in others], dtype=np.int64)
    tagged = np.concatenate(others).astype(np.uint64) | np.repeat(tag, set_len)
    doc_len = np.array([len(d.shingles) for d in docs], dtype=np.int64)
    asked = np.concatenate([d.shingles for d in docs]).astype(np.uint64) | np.repeat(tag, doc_len)
    pos = np.searchsorted(tagged, asked)
    pos[pos == len(tagged)] = 0
    found = (tagged[pos] == asked).view(np.int8) if len(tagged) else np.zeros(len(asked), np.int8)
    n_pass = np.array([d.n_passages for d in docs], dtype=np.int64)
    starts = np.cumsum(doc_len) - doc_len
    offsets = np.concatenate([d.offsets for d in docs]) + np.repeat(starts, n_pass)
    counts = np.add.reduceat(found, offsets)
    pair_of = np.repeat(np.arange(m, dtype=np.int64), n_pass)
    local = np.arange(len(offsets), dtype=np.int64) - np.repeat(np.cumsum(n_pass) - n_pass, n_pass)
    return counts, pair_of, local


def _verify_chunk(
    pairs: list[tuple[Doc, Doc]], params: Params, sets: dict[str, np.ndarray]
) -> list[Pair | None]:
    m = len(pairs)
    a_docs = [a for a, _ in pairs]
    b_docs = [b for _, b in pairs]
    a_counts, a_pair, a_local = _side_hits(a_docs, [sets[b.id] for b in b_docs])
    b_counts, b_pair, b_local = _side_hits(b_docs, [sets[a.id] for a in a_docs])
    a_sizes = np.concatenate([d.passage_sizes() for d in a_docs])
    b_sizes = np.concatenate([d.passage_sizes() for d in b_docs])
    limit = params.passage_match
    matched = np.zeros(m, dtype=bool)
    matched[a_pair[a_counts >= limit * a_sizes]] = True
    matched[b_pair[b_counts >= limit * b_sizes]] = True
    hits: list[list[dict[int, int]]] = [[{} for _ in range(m)], [{} for _ in range(m)]]
    for side, (counts, pair_of, local) in enumerate(
        ((a_counts, a_pair, a_local), (b_counts, b_pair, b_local))
    ):
        nz = np.flatnonzero(counts)
        h = hits[side]
        for k, j, c in zip(pair_of[nz].tolist(), local[nz].tolist(), counts[nz].tolist(), strict=True):
            h[k][j] = c
    out: list[Pair | None] = []
    for k, (a, b) in enumerate(pairs):
        ok = matched[k] and hits[0][k]
        out.append(Pair(a.id, b.id, hits[0][k], hits[1][k]) if ok else None)
    return out

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
    operations over hundreds of pairs at a time.

    The articles' arrays are concatenated once (`_Table`); a chunk of pairs then
    gathers its rows by index. Chunks are small so that the sets searched stay in
    the CPU cache: a binary search over a chunk's sets costs a cache miss per step
    once they outgrow it.
    """
    table = _Table(pairs, sets)
    out: list[Pair | None] = []
    for c0 in range(0, len(pairs), _PAIR_CHUNK):
        c1 = c0 + _PAIR_CHUNK
        out.extend(_verify_chunk(pairs[c0:c1], table.a[c0:c1], table.b[c0:c1], table, params))
    return out


_PAIR_CHUNK = 500


def expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [starts[i], starts[i] + counts[i]): (i, position) of every element."""
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    return owner, starts[owner] + np.arange(len(owner), dtype=np.int64) - first[owner]


class _Table:
    """The articles of a list of pairs, numbered, with their arrays concatenated:
    shingles (passage after passage) and the passage of each, passage sizes, and the
    sorted unique shingles (`sets`)."""

    def __init__(self, pairs: list[tuple[Doc, Doc]], sets: dict[str, np.ndarray]) -> None:
        number: dict[str, int] = {}
        docs: list[Doc] = []
        for pair in pairs:
            for d in pair:
                if d.id not in number:
                    number[d.id] = len(docs)
                    docs.append(d)
        self.a = np.array([number[a.id] for a, _ in pairs], dtype=np.int64)
        self.b = np.array([number[b.id] for _, b in pairs], dtype=np.int64)
        self.shingles, self.start, self.len = _concat([d.shingles for d in docs])
        self.set, self.set_start, self.set_len = _concat([sets[d.id] for d in docs])
        sizes = [d.passage_sizes() for d in docs]
        self.n_pass = np.array([len(s) for s in sizes], dtype=np.int64)
        self.pass_start = np.cumsum(self.n_pass) - self.n_pass
        self.sizes = np.array([x for s in sizes for x in s], dtype=np.int64)
        # The passage of each shingle, numbered within its article.
        local = np.arange(len(self.sizes), dtype=np.int64) - np.repeat(self.pass_start, self.n_pass)
        self.passage = np.repeat(local.astype(np.int32), self.sizes)


def _concat(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the arrays one after the other, start of each, length of each)."""
    lens = np.array([len(x) for x in arrays], dtype=np.int64)
    flat = np.concatenate(arrays) if arrays else np.zeros(0, np.uint32)
    return flat, np.cumsum(lens) - lens, lens


def _side_hits(
    t: _Table, docs: np.ndarray, others: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For pair k: how many shingles of each passage of article docs[k] are in the set
    of article others[k]. Returns (counts per passage, pair of each passage, passage
    index within its article)."""
    m = len(docs)
    owner, at = expand(t.start[docs], t.len[docs])
    asked = t.shingles[at].astype(np.uint64) | (owner.astype(np.uint64) << np.uint64(32))
    set_owner, set_at = expand(t.set_start[others], t.set_len[others])
    tagged = t.set[set_at].astype(np.uint64) | (set_owner.astype(np.uint64) << np.uint64(32))
    pos = np.searchsorted(tagged, asked)
    pos[pos == len(tagged)] = 0
    found = tagged[pos] == asked if len(tagged) else np.zeros(len(asked), bool)
    n_pass = t.n_pass[docs]
    first = np.cumsum(n_pass) - n_pass
    slot = first[owner] + t.passage[at]
    counts = np.bincount(slot[found], minlength=int(n_pass.sum()))
    pair_of = np.repeat(np.arange(m, dtype=np.int64), n_pass)
    local = np.arange(len(counts), dtype=np.int64) - first[pair_of]
    return counts, pair_of, local


def _verify_chunk(
    pairs: list[tuple[Doc, Doc]], ia: np.ndarray, ib: np.ndarray, t: _Table, params: Params
) -> list[Pair | None]:
    m = len(pairs)
    limit = params.passage_match
    matched = np.zeros(m, dtype=bool)
    hits: list[list[dict[int, int]]] = [[{} for _ in range(m)], [{} for _ in range(m)]]
    for side, (mine, other) in enumerate(((ia, ib), (ib, ia))):
        counts, pair_of, local = _side_hits(t, mine, other)
        sizes = t.sizes[t.pass_start[mine][pair_of] + local]
        matched[pair_of[counts >= limit * sizes]] = True
        nz = np.flatnonzero(counts)
        h = hits[side]
        for k, j, c in zip(pair_of[nz].tolist(), local[nz].tolist(), counts[nz].tolist(), strict=True):
            h[k][j] = c
    out: list[Pair | None] = []
    for k, (a, b) in enumerate(pairs):
        ok = matched[k] and hits[0][k]
        out.append(Pair(a.id, b.id, hits[0][k], hits[1][k]) if ok else None)
    return out

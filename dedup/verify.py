"""Candidate verification: exact shared shingles of two articles, per passage."""

from __future__ import annotations

import numpy as np

from dedup import kernels
from dedup.params import Params
from dedup.relations import Pair
from dedup.rule_graph import PairHits
from dedup.sketch import Doc, unique, unique_segments


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


def verify_pairs(pairs: list[tuple[Doc, Doc]], params: Params) -> list[Pair | None]:
    """`verify(a, b)` for many pairs (a.id < b.id, both with shingles), compiled
    (`verify_indexed` on the articles numbered as they first appear)."""
    number: dict[str, int] = {}
    docs: list[Doc] = []
    for pair in pairs:
        for d in pair:
            if d.id not in number:
                number[d.id] = len(docs)
                docs.append(d)
    a = np.array([number[x.id] for x, _ in pairs], dtype=np.int64)
    b = np.array([number[y.id] for _, y in pairs], dtype=np.int64)
    out: list[Pair | None] = [None] * len(pairs)
    keep, kept, _, _, _ = verify_indexed(docs, a, b, params)
    for k, p in zip(keep.tolist(), kept, strict=True):
        out[k] = p
    return out


def verify_indexed(
    docs: list[Doc], a: np.ndarray, b: np.ndarray, params: Params
) -> tuple[np.ndarray, list[Pair], list[float], list[float], PairHits]:
    """`verify(docs[a[k]], docs[b[k]])` for every k (ids a < b, both with shingles),
    compiled: (the k of the pairs kept, ascending; their `Pair`s; the share of each
    side's shingles found in the other, C(a|b) and C(b|a); the kept pairs' hits as
    arrays, `dedup.rule_graph.PairHits`).

    The articles' shingles are read from one array (`_Table`, `dedup.sketch.unique_segments`):
    the window's `Arena` as it is when they all lie there, else a copy in the order of
    `docs` (an order that follows memory, as the batches made them, copies several times
    faster than one that jumps around); their sorted unique shingles are computed from
    it (each doc that has none yet is given its own, a view). `dedup.kernels.pair_hits`
    then counts every pair's shared shingles per passage, and only the pairs it keeps
    become Python objects.
    """
    t = _Table(docs)
    na, nb = t.n_pass[a], t.n_pass[b]
    first_a, first_b = np.cumsum(na) - na, np.cumsum(nb) - nb
    counts_a = np.zeros(int(na.sum()), dtype=np.int64)
    counts_b = np.zeros(int(nb.sum()), dtype=np.int64)
    matched = np.zeros(len(a), dtype=np.bool_)
    kernels.pair_hits(
        t.shingles, t.start, t.n_pass, t.pass_start, t.sizes, t.set, t.set_start, t.set_len,
        a, b, first_a, first_b, float(params.passage_match), counts_a, counts_b, matched,
    )  # fmt: skip
    keep = np.flatnonzero(matched)
    found_a, flat_a = _hit_arrays(counts_a, first_a[keep], na[keep])
    found_b, flat_b = _hit_arrays(counts_b, first_b[keep], nb[keep])
    # Rule 1 on raw containments (`Pair.copy0`), for all kept pairs at once.
    with np.errstate(divide="ignore", invalid="ignore"):
        total_a, total_b = t.len[a[keep]], t.len[b[keep]]
        c_a = np.where(total_a > 0, found_a / total_a, 0.0)
        c_b = np.where(total_b > 0, found_b / total_b, 0.0)
    copy0 = (np.minimum(c_a, c_b) >= params.copy_threshold).tolist()
    # The hits as arrays, a's and b's side of each pair in turn (`PairHits`); each
    # `Pair` points at its own and makes its dicts only if asked.
    side = np.concatenate([2 * flat_a[0], 2 * flat_b[0] + 1])
    order = np.argsort(side, kind="stable")
    h_n = np.bincount(side, minlength=2 * len(keep)).astype(np.int64)
    hits = (
        h_n,
        np.concatenate([flat_a[1], flat_b[1]])[order],
        np.concatenate([flat_a[2], flat_b[2]])[order],
    )
    source = (*hits, np.cumsum(h_n) - h_n)
    kept = [
        Pair(docs[x].id, docs[y].id, source=(source, j), _copy0=copy0[j])
        for j, (x, y) in enumerate(zip(a[keep].tolist(), b[keep].tolist(), strict=True))
    ]
    return keep, kept, c_a.tolist(), c_b.tolist(), hits


def _hit_arrays(
    counts: np.ndarray, first: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each k, of counts[first[k] : first[k] + n[k]] (the same ranges one after the
    other): the sum, and the non-zero ones as arrays (k, passage, count), passages
    ascending."""
    owner, at = expand(first, n)
    c = counts[at]
    nz = np.flatnonzero(c)
    found = np.bincount(owner, weights=c, minlength=len(n)) if len(n) else np.zeros(0)
    return found, (owner[nz], (at - first[owner])[nz], c[nz].astype(np.int64))


def expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [starts[i], starts[i] + counts[i]): (i, position) of every element."""
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    return owner, starts[owner] + np.arange(len(owner), dtype=np.int64) - first[owner]


class _Table:
    """Articles' arrays for the compiled verification: shingles (passage after passage)
    in one array, the window's arena or a copy, and the sorted unique shingles computed
    from it in one compiled call (`dedup.sketch.unique_segments`); passage sizes."""

    def __init__(self, docs: list[Doc]) -> None:
        self.shingles, self.start, self.len, self.set, self.set_len = unique_segments(docs)
        self.set_start = self.start
        sizes = [d.passage_sizes() for d in docs]
        self.n_pass = np.array([len(s) for s in sizes], dtype=np.int64)
        self.pass_start = np.cumsum(self.n_pass) - self.n_pass
        self.sizes = np.array([x for s in sizes for x in s], dtype=np.int64)

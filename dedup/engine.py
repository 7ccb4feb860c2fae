"""Incremental indexing and clustering over the dedup tables.

New articles are taken in order of publication, in windows of `commit_every`, one
transaction each (a story's copies appear within hours, so they mostly share a
window and their neighbourhood is recomputed once). Their signatures are computed
and stored `batch_size` at a time (`sketch_batch`); then the whole window enters
the LSH index, its candidates are verified into pairs (`pair_window`), and every
derived fact whose inputs changed is recomputed, in dependency order (see
`dedup.relations`):

    pairs -> background0 -> container -> background -> copy edges -> clusters, links

Older articles that a window's candidates meet are sketched again from their texts
(`_indexed_docs`: their shingles are not stored, a sixth of the database).

Each fact of an article depends only on its pairs and the pairs among its neighbors,
so after a window only the neighborhoods of changed articles are recomputed. The
result is a function of the set of articles, whatever their order or batching.

Indexed articles that changed or were deleted since (`DedupStore.stale_articles`) are
first withdrawn (`withdraw`): out of the index, their pairs and derived facts gone,
as if never indexed; the changed ones are then indexed again like new ones.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, filterfalse, islice
from typing import Any

import numpy as np

from dedup import kernels
from dedup import relations as rel
from dedup.heap import heap_kept
from dedup.lsh import LshIndex, make_segment, runs
from dedup.params import Params
from dedup.rule_graph import PairHits, RuleGraph
from dedup.sketch import (
    Arena,
    Doc,
    Stretch,
    band_keys,
    fill_unique,
    passage_signatures,
    sketch_texts,
    stretches,
    unique,
)
from dedup.store import DedupStore, blob_u32, u32_blob
from dedup.support import (
    IntSet,
    blocked_rows,
    dead_keys,
    hot_keys,
    live_key_sets,
    live_triples,
)
from dedup.verify import verify_indexed


@dataclass
class Summary:
    indexed: int = 0
    withdrawn: int = 0  # indexed articles taken out again (changed or deleted since)
    batches: int = 0
    pairs_added: int = 0
    pairs_dropped: int = 0
    reclustered: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "indexed": self.indexed,
            "withdrawn": self.withdrawn,
            "batches": self.batches,
            "pairs_added": self.pairs_added,
            "pairs_dropped": self.pairs_dropped,
            "reclustered": self.reclustered,
            "seconds": round(self.seconds, 3),
            **self.counts,
        }


@dataclass(frozen=True)
class Progress:
    """Where an update is, for a progress display (`update(progress=...)`).

    phase: "withdrawing" (changed or deleted articles leave the index), then per commit
    window "sketching" (batch after batch), "pairing" (LSH candidates verified),
    "clustering" (flags, clusters and links recomputed), "committing" (the index and
    the transaction written) and "committed".
    indexed: articles indexed so far in this update (withdrawn, while withdrawing);
    queued: the articles waiting when it started (articles stored while it runs are
    taken too, so `indexed` may pass it).
    """

    phase: str
    indexed: int
    queued: int
    seconds: float


def _jlist(s: Iterable[int]) -> str:
    return json.dumps(sorted(int(i) for i in s))


@lru_cache(maxsize=1 << 12)  # (a few lists of agencies recur)
def _credits(agencies: str | None) -> bool:
    if not agencies or agencies == "[]":
        return False
    try:
        return bool(json.loads(agencies))
    except ValueError:
        return False


class LazyGraph:
    """The part of the pair graph a batch needs, loaded from the store on demand."""

    def __init__(self, store: DedupStore) -> None:
        self.store = store
        self.g = rel.Graph()
        self.paired: set[str] = set()  # ids whose pairs are all loaded
        self.added: list[rel.Pair] = []  # every pair put in `g`, in order
        # Where in `added` pairs with their hits as arrays begin: (how many, the arrays).
        self.with_hits: dict[int, tuple[int, PairHits]] = {}

    # (the sets below are walked by C code: filter and map over bound methods, chain
    # over the neighbour dicts; a window's ball is a hundred thousand articles)

    def load_nodes(self, ids: Iterable[str]) -> None:
        missing = list(filterfalse(self.g.nodes.__contains__, set(ids)))
        cols = "text_hash, passage_sizes, published, credits_agency, background0, is_container, background"
        for row in self.store.signature_rows(missing, cols):
            aid, th, sizes, pub, cred, b0, cont, bg = row
            self.g.nodes[aid] = rel.Node(
                aid,
                th,
                tuple(json.loads(sizes)),
                pub,
                bool(cred),
                frozenset(json.loads(b0)),
                bool(cont),
                frozenset(json.loads(bg)),
            )

    def load_pairs(self, ids: Iterable[str]) -> None:
        todo = list(filterfalse(self.paired.__contains__, set(ids)))
        if not todo:
            return
        ends: set[str] = set(todo)
        for a, b, ah, bh in self.store.pairs_of(todo):
            if self.g.pair(a, b) is None:
                p = rel.Pair(a, b, _hits(ah), _hits(bh))
                self.g.add_pair(p)
                self.added.append(p)
            ends.update((a, b))
        self.paired.update(todo)
        self.load_nodes(ends)

    def drop_pair(self, a: str, b: str) -> None:
        self.g.drop_pair(a, b)

    def add_pairs(self, pairs: list[rel.Pair], hits: PairHits) -> None:
        """Pairs just verified (and stored), with their hits as arrays: their ends'
        nodes load with the recompute."""
        pair_of = self.g.pair
        new = [p for p in pairs if pair_of(p.a, p.b) is None]
        self.g.add_pairs(new)
        if len(new) == len(pairs):
            self.with_hits[len(self.added)] = (len(new), hits)
        self.added.extend(new)

    def batches(self, since: int) -> list[tuple[list[rel.Pair], PairHits | None]]:
        """The pairs added from `since` on that are still in the graph, in batches, each
        with its hits as arrays where `add_pairs` had them."""
        out: list[tuple[list[rel.Pair], PairHits | None]] = []
        at, g = since, self.g
        for start in sorted(k for k in self.with_hits if k >= since) + [len(self.added)]:
            if at < start:
                rest = self.added[at:start]
                out.append(([p for p in rest if g.pair(p.a, p.b) is p], None))
            if start == len(self.added):
                break
            n, hits = self.with_hits[start]
            pairs = self.added[start : start + n]
            if all(g.pair(p.a, p.b) is p for p in pairs):
                out.append((pairs, hits))
            else:
                out.append(([p for p in pairs if g.pair(p.a, p.b) is p], None))
            at = start + n
        return out

    def ball(self, ids: Iterable[str]) -> set[str]:
        """ids and their neighbors, with the pairs of all of them (and among them) loaded."""
        ids = set(ids)
        self.load_pairs(ids)
        adj = self.g.adj
        out = ids.union(chain.from_iterable(map(adj.__getitem__, filter(adj.__contains__, ids))))
        self.load_pairs(out)
        # (the neighbor lists of `out` are complete now: loading more pairs adds none)
        second = set(chain.from_iterable(map(adj.__getitem__, filter(adj.__contains__, out))))
        self.load_pairs(second)
        return out


def _hits(s: str) -> dict[int, int]:
    d = json.loads(s)
    return dict(zip(map(int, d), d.values(), strict=True))


def _hits_json(hits: PairHits) -> list[str]:
    """Each side's hits as `json.dumps` writes the dict {passage: shingles} (passages
    ascending, as `verify_indexed` makes them): written by `kernels.json_lines`."""
    h_n, h_pass, h_count = hits
    return _lines(kernels.json_lines(h_n, h_pass, h_count, True))


def _lines(buf: np.ndarray) -> list[str]:
    """ASCII texts each ended by a line feed, as strings: decoded and split once."""
    lines = buf.tobytes().decode("ascii").split("\n")
    lines.pop()  # (after the last line feed)
    return lines


def _indexed_docs(
    store: DedupStore, ids: Iterable[str], params: Params, *, with_unique: bool = True
) -> list[Doc]:
    """`Doc`s of indexed articles, made again from their texts (shingles are not stored),
    `INDEXED_BATCH` at a time, with their sorted unique shingles in one compiled call per
    batch (`sketch.fill_unique`); without them (`with_unique=False`) for articles about
    to be verified, which makes them anyway (`verify_indexed`).

    An article whose text no longer gives the words indexed is left out and queued
    again (`DedupStore.requeue`), so that the next update withdraws it and indexes it
    anew: changed or deleted by another writer since this update withdrew the stale
    ones (then it is queued already), or normalized otherwise by the code that indexed
    it (a change to `dedup.normalize` without a version of its own)."""
    out: list[Doc] = []
    differ: list[str] = []
    rows = store.indexed_texts(ids)
    while part := list(islice(rows, INDEXED_BATCH)):
        batch = sketch_texts([text for _, text, _ in part], params)
        docs = []
        for d, (_, _, indexed) in zip(batch.docs([aid for aid, _, _ in part]), part, strict=True):
            if d.text_hash == indexed:
                docs.append(d)
            else:
                differ.append(d.id)
        if with_unique:
            fill_unique(docs)
        out.extend(docs)
    if differ:
        store.requeue(differ)
    return out


# Indexed articles made again from their texts at a time (`_indexed_docs`), as a window's
# batches are: their texts are read and sketched together, then dropped.
INDEXED_BATCH = 2000


def _candidates(
    index: LshIndex,
    keys: np.ndarray,
    docnos: np.ndarray,
    uk: np.ndarray,
    new_count: np.ndarray,
    sizes: np.ndarray,
    params: Params,
    dead: _DeadKeys,
    new_from: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs of new entries (keys sorted, docnos), already in `index`.

    Returns (pairs, crossing): pairs as (docno, docno) rows, lower docno first, that
    meet in a bucket holding at most `max_bucket` articles with both entries live
    (`dedup.support`); crossing, the buckets the new entries made hot (over the bound
    now, within it without them). `uk`: the unique keys, `new_count`: their entries in
    `keys`, `sizes`: their buckets' sizes. `new_from`, if given: every entry of an
    article numbered from it on is one of the new entries, so two such articles that
    meet are taken once, from the lower one's entry (half the meetings of a window).
    """
    crossing = uk[(sizes > params.max_bucket) & (sizes - new_count <= params.max_bucket)]
    ok_all = uk[sizes <= params.max_bucket]
    found = IntSet()  # (a pair meets in many buckets, of many chunks)
    # A few hundred thousand buckets at a time: the (entry, member) expansion of a whole
    # window would hold every candidate several times over at once.
    for c0 in range(0, len(ok_all), _CANDIDATE_CHUNK):
        ok = ok_all[c0 : c0 + _CANDIDATE_CHUNK]
        e0, e1 = np.searchsorted(keys, ok[0], "left"), np.searchsorted(keys, ok[-1], "right")
        ks, src = keys[e0:e1], docnos[e0:e1].astype(np.int64)
        q, mem = index.members(ok)
        dead.load(mem)
        j = kernels.ranges(ok, ks)[0]
        j[j == len(ok)] = 0
        in_ok = ok[j] == ks
        j, ks, src = j[in_ok], ks[in_ok], src[in_ok]
        lo, hi = kernels.ranges(q, j)
        # Meetings in one compiled pass; those on a key dead for some article are
        # looked at closely (`live_triples`), the others are live.
        every = dead.every()
        packed, k, a, b = kernels.bucket_meetings(
            ks, src, lo, hi, mem, -1 if new_from is None else new_from, every
        )
        if len(k):
            keep = live_triples(k, a, b, dead.keys, every)
            a, b = a[keep], b[keep]
            packed = np.concatenate([packed, (np.minimum(a, b) << 32) | np.maximum(a, b)])
        found.add(packed)
    packed = found.values()
    return np.stack([packed >> 32, packed & 0xFFFFFFFF], axis=1), crossing


class _DeadKeys:
    """Dead LSH entries (`dedup.support.dead_keys`) of the window's articles and of the
    older ones met in its buckets, whose signatures are read on first sight."""

    def __init__(self, store: DedupStore, index: LshIndex, params: Params, first_new: int) -> None:
        self.store, self.index, self.params = store, index, params
        self.first_new = first_new  # docnos below are older articles
        self.keys: dict[int, set[int]] = {}
        self.names: dict[int, str] = {}  # docno -> article id of the older ones read
        self.seen = np.zeros(max(first_new, 0), dtype=bool)  # older docnos read, by docno
        self._every: np.ndarray | None = None  # see `every`

    def add_rows(self, rows: np.ndarray, row_doc: np.ndarray, hot: np.ndarray | None = None) -> None:
        """Dead entries of these passages; `hot`: the hot keys among theirs, if known."""
        if hot is None:
            hot = hot_keys(self.index, rows, self.params.max_bucket)
        found = dead_keys(rows, row_doc, blocked_rows(rows, hot))
        if found:
            self.keys.update(found)
            self._every = None

    def every(self) -> np.ndarray:
        """Every key dead for some article, sorted (kept until more are added)."""
        if self._every is None:
            self._every = np.array(sorted(set().union(*self.keys.values())), dtype=np.int64)
        return self._every

    def load(self, docnos: np.ndarray) -> None:
        old = unique(docnos[(docnos < self.first_new) & (docnos >= 0)].astype(np.int64))
        old = old[~self.seen[old]]
        if not len(old):
            return
        self.seen[old] = True
        rows, row_doc = _key_rows(
            self.params, self.store.signatures_by_docno(old.tolist()), self.names
        )
        self.add_rows(rows, row_doc)


def _key_rows(
    params: Params, items: Iterable[tuple[int, str, bytes, int]], names: dict[int, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Band keys per passage (rows) and the docno of each row, from stored signatures
    (docno, article id, signatures blob, passages); records each docno's id in `names`."""
    items = list(items)
    for docno, aid, _, _ in items:
        names[docno] = aid
    # All blobs at once: one row of num_perm values per passage, article after article.
    sigs = u32_blob(b"".join([blob for _, _, blob, nper in items if nper]))
    nos = np.array([docno for docno, _, _, nper in items if nper], dtype=np.int64)
    npers = np.array([nper for _, _, _, nper in items if nper], dtype=np.int64)
    if not len(sigs):
        return np.zeros((0, params.bands), np.int64), np.zeros(0, np.int64)
    return band_keys(sigs.reshape(-1, params.num_perm), params), np.repeat(nos, npers)


_CANDIDATE_CHUNK = 200_000


@dataclass
class Window:
    """The articles indexed in one transaction, waiting to be paired."""

    docs: dict[str, Doc] = field(default_factory=dict)
    nodes: dict[str, rel.Node] = field(default_factory=dict)  # as stored, flags not set yet
    docnos: dict[str, int] = field(default_factory=dict)
    keys: list[np.ndarray] = field(default_factory=list)  # (passages, bands) keys per batch
    row_docnos: list[np.ndarray] = field(default_factory=list)  # docno of each passage
    arena: Arena = field(default_factory=Arena)  # the articles' shingles


def sketch_batch(
    store: DedupStore,
    rows: list[tuple[str, str, str | None, str | None]],
    params: Params,
    window: Window,
) -> None:
    """Signatures of one batch of new articles, stored; their band keys kept in `window`."""
    order = [aid for aid, _, _, _ in rows]
    batch = sketch_texts([text for _, text, _, _ in rows], params)
    window.arena.take(batch)
    # Signatures and band keys of the whole batch in one vectorized pass.
    all_sigs = passage_signatures(batch.shingles, batch.passage_offsets, params)
    all_keys = band_keys(all_sigs, params)
    # Each article's blobs are slices of the whole batch's bytes.
    sig_bytes = blob_u32(all_sigs)
    row_bytes = 4 * all_sigs.shape[1]
    # The rows' columns for the whole batch at once: passage p of the batch is
    # shingles[ends[p]:ends[p + 1]], and doc d's passages are first[d] to first[d + 1].
    docs = batch.docs(order)
    ends = np.append(batch.passage_offsets, len(batch.shingles))
    first = np.concatenate(([0], np.cumsum(batch.doc_passages))).astype(np.int64)
    sizes = np.diff(ends)
    sizes_json = _lines(kernels.json_lines(batch.doc_passages, sizes, sizes, False))
    n_shingles = np.diff(ends[first]).tolist()
    p0, p1 = (row_bytes * first[:-1]).tolist(), (row_bytes * first[1:]).tolist()
    blobs = [sig_bytes[a:z] for a, z in zip(p0, p1, strict=True)]
    credits = [_credits(agencies) for _, _, _, agencies in rows]
    published = [p for _, _, p, _ in rows]
    for aid, doc, pub, cred in zip(order, docs, published, credits, strict=True):
        window.docs[aid] = doc
        window.nodes[aid] = rel.Node(aid, doc.text_hash, tuple(doc.passage_sizes()), pub, cred)
    sig_rows = list(
        zip(
            order, batch.text_hashes, batch.doc_passages.tolist(), n_shingles, sizes_json, blobs,
            published, map(int, credits), strict=True,
        )
    )  # fmt: skip
    docno = store.insert_signatures(sig_rows)
    window.docnos.update(docno)
    doc_nos = np.array([docno[a] for a in order], dtype=np.int64)
    window.keys.append(all_keys)
    window.row_docnos.append(np.repeat(doc_nos, batch.doc_passages))


def pair_window(
    store: DedupStore,
    index: LshIndex,
    window: Window,
    graph: LazyGraph,
    changed: set[str],
    params: Params,
    summary: Summary,
) -> dict[str, Stretch]:
    """Add the window's articles to the LSH index and verify their candidate pairs.

    The whole window enters the index before any candidate is drawn, so a bucket that
    turns hot within the window never pairs its holders (pairing them and taking the
    pairs back later gives the same result, at many times the cost). The articles
    whose pairs changed are added to `changed` for `_recompute`. Returns the sorted
    unique shingles of every article it looked at.
    """
    docs = dict(window.docs)
    docno = window.docnos
    changed.update(docs)
    graph.g.nodes.update(window.nodes)
    before = len(index.segments)
    rows = np.concatenate(window.keys) if window.keys else np.zeros((0, params.bands), np.int64)
    row_doc = np.concatenate(window.row_docnos) if window.row_docnos else np.zeros(0, np.int64)
    index.add(rows.ravel(), np.repeat(row_doc, params.bands))
    window.keys.clear()  # in the index now
    window.row_docnos.clear()
    dead = _DeadKeys(store, index, params, first_new=min(docno.values(), default=0))
    if len(index.segments) > before:
        new_seg = index.segments[-1]
        uk, new_count = runs(new_seg.keys)
        sizes = index.sizes(uk)
        dead.add_rows(rows, row_doc, uk[sizes > params.max_bucket])
        cand, crossing = _candidates(
            index, new_seg.keys, new_seg.docnos, uk, new_count, sizes, params, dead,
            new_from=dead.first_new,
        )  # fmt: skip
        del uk, new_count, sizes
    else:
        cand, crossing = np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    index.compact()
    doc_nos = np.array(list(docno.values()), dtype=np.int64)

    # Buckets that just turned hot take back the pairs that no live key supports any
    # more: the bucket itself is dead now, and so are its holders' passages.
    new_nos = set(doc_nos.tolist())
    _, crossing_nos = index.members(crossing)
    repair_nos = set(crossing_nos.tolist()) - new_nos
    names = dict(dead.names)
    names.update(store.docnos_to_ids(set(cand.ravel().tolist()) - new_nos - set(names)))
    names.update({n: a for a, n in docno.items()})
    if repair_nos:
        _repair(store, index, graph, rows, row_doc, repair_nos, names, params, changed, summary)
    del rows, row_doc, dead

    # Verify candidate pairs of the new articles.
    ids, pa, pb = _pairs_by_id(cand, names)
    sets = _verify_candidates(store, graph, ids, pa, pb, docs, params, changed, summary)
    # Every pair of a new article was made just now: the graph has all of them.
    graph.paired.update(window.docs)
    return sets


def _verify_candidates(
    store: DedupStore,
    graph: LazyGraph,
    ids: list[str],
    pa: np.ndarray,
    pb: np.ndarray,
    docs: dict[str, Doc],
    params: Params,
    changed: set[str],
    summary: Summary,
) -> dict[str, Stretch]:
    """Verify candidate pairs (ids[pa[k]], ids[pb[k]]), ids sorted and pa < pb, and
    store the kept ones; `docs`: the articles at hand (the others are read). Returns
    the sorted unique shingles of every article (`Doc.unique_stretch`)."""
    used = {ids[i] for i in unique(np.concatenate([pa, pb])).tolist()}
    partner_ids = used - set(docs)
    for doc in _indexed_docs(store, partner_ids, params, with_unique=False):
        docs[doc.id] = doc
    gone = partner_ids - docs.keys()  # (changed since indexed: see `_indexed_docs`)
    if gone:
        used -= gone
    # The articles of the pairs numbered in the order of `docs`: the window's batch
    # after batch, then the partners as read (see `verify_indexed`).
    order = [d for aid, d in docs.items() if aid in used]
    number = {d.id: k for k, d in enumerate(order)}
    # (an id no pair uses any more has no place; one a pair uses must have its doc)
    place = np.array([number[x] if x in used else -1 for x in ids], dtype=np.int64)
    a, b = place[pa], place[pb]
    if gone:
        both = (a >= 0) & (b >= 0)
        a, b = a[both], b[both]
    # Exact duplicates are joined by text_hash, not by a pair row.
    hash_no: dict[str, int] = {}
    code = np.array([hash_no.setdefault(d.text_hash, len(hash_no)) for d in order], np.int64)
    n_sh = np.array([len(d.shingles) for d in order], dtype=np.int64)
    ask = ~((n_sh[a] > 0) & (code[a] == code[b]))
    a, b = a[ask], b[ask]
    _, kept, c_a, c_b, hits = verify_indexed(order, a, b, params)
    # (which gave the articles of `order` their unique shingles; the others get theirs here)
    fill_unique(docs.values())
    sets = {aid: d.unique_stretch() for aid, d in docs.items()}
    texts = iter(_hits_json(hits))  # (a's side, then b's, pair after pair)
    new_pairs = [
        (p.a, p.b, round(sa, 4), round(sb, 4), next(texts), next(texts))
        for p, sa, sb in zip(kept, c_a, c_b, strict=True)
    ]
    changed.update(p.a for p in kept)
    changed.update(p.b for p in kept)
    graph.add_pairs(kept, hits)
    store.upsert_pairs(new_pairs)
    summary.pairs_added += len(new_pairs)
    return sets


def _repair(
    store: DedupStore,
    index: LshIndex,
    graph: LazyGraph,
    rows: np.ndarray,
    row_doc: np.ndarray,
    repair_nos: set[int],
    names: dict[int, str],
    params: Params,
    changed: set[str],
    summary: Summary,
) -> None:
    """Drop the pairs of older articles in buckets that just turned hot when the two
    articles no longer share a live key (the pairs of new articles were drawn live)."""
    names.update(store.docnos_to_ids(repair_nos - set(names)))
    repair_ids = sorted(names[n] for n in repair_nos)
    graph.load_pairs(repair_ids)
    ends = set(repair_ids) | {x for aid in repair_ids for x in graph.g.neighbors(aid)}
    in_window = {n for n in np.unique(row_doc).tolist()}
    ids_to_no = {a: n for n, a in names.items()}
    old = sorted(a for a in ends if ids_to_no.get(a) not in in_window)
    old_rows, old_doc = _key_rows(params, store.signatures_of(old), names)
    ids_to_no = {a: n for n, a in names.items()}
    want = {ids_to_no[a] for a in ends}
    pick = np.isin(row_doc, np.fromiter(want, np.int64, len(want)))
    all_rows = np.concatenate([rows[pick], old_rows])
    all_doc = np.concatenate([row_doc[pick], old_doc])
    hot = hot_keys(index, all_rows, params.max_bucket)
    live = live_key_sets(all_rows, all_doc, blocked_rows(all_rows, hot))
    empty: set[int] = set()
    dropped: list[tuple[str, str]] = []
    for aid in repair_ids:
        mine = live.get(ids_to_no[aid], empty)
        for x in list(graph.g.neighbors(aid)):
            if mine.isdisjoint(live.get(ids_to_no[x], empty)):
                a, b = min(aid, x), max(aid, x)
                graph.drop_pair(a, b)  # (at once: seen from x, the pair is gone)
                dropped.append((a, b))
                changed.update((a, b))
    store.delete_pairs(dropped)
    summary.pairs_dropped += len(dropped)


def withdraw(store: DedupStore, stale: dict[str, int], params: Params, summary: Summary) -> None:
    """Take indexed articles (article_id -> docno) out of the index, their pairs and
    every derived fact, leaving what indexing the other articles alone would give.

    Their LSH entries leave the index's lookups (`LshIndex.withdraw`; the segments
    holding them are rewritten without them by a merge, or once withdrawn entries are
    a tenth of the index, `LshIndex.purge`). A bucket they made hot may be within the bound
    again: its holders' keys there are live again (and their blocked passages open),
    so their candidate pairs are drawn and verified anew. Pairs are never taken back:
    buckets only shrink here. Then the neighbourhoods of the articles that lost pairs
    and the other members of their clusters are recomputed (`_recompute`).
    """
    ids = sorted(stale)
    index = store.load_lsh()
    graph = LazyGraph(store)
    graph.load_pairs(ids)
    lost = {x for i in ids for x in graph.g.neighbors(i)} - set(ids)
    names: dict[int, str] = {}
    rows, row_doc = _key_rows(params, store.signatures_of(ids), names)
    keys = unique(rows)
    before = index.sizes(keys)
    # (their entries stay in the segments until a merge or a purge, see `LshIndex`)
    index.withdraw(rows.ravel(), np.repeat(row_doc, params.bands))
    cooled = keys[(before > params.max_bucket) & (index.sizes(keys) <= params.max_bucket)]
    members, linked = store.forget_articles(ids)
    for i in ids:
        for x in list(graph.g.neighbors(i)):
            graph.drop_pair(i, x)
        graph.g.nodes.pop(i, None)
        graph.paired.discard(i)
    changed = lost | members
    summary.withdrawn += len(ids)
    sets: dict[str, Stretch] = {}
    if len(cooled):
        sets = _pair_holders(store, index, graph, cooled, params, changed, summary)
    _recompute(store, graph, changed, params, summary, sets)
    store.refresh_container_counts(linked)
    if index.needs_purge():
        index.purge()
    index.compact()
    store.save_lsh(index)


def _pair_holders(
    store: DedupStore,
    index: LshIndex,
    graph: LazyGraph,
    cooled: np.ndarray,
    params: Params,
    changed: set[str],
    summary: Summary,
) -> dict[str, Stretch]:
    """Draw and verify the candidate pairs of the articles holding these buckets, which
    were hot and are within the bound again (`withdraw`); returns their shingle sets."""
    _, held = index.members(cooled)
    holder_nos = unique(held.astype(np.int64))
    names = store.docnos_to_ids(holder_nos.tolist())
    holders = sorted(names.values())
    rows, row_doc = _key_rows(params, store.signatures_of(holders), names)
    seg = make_segment(rows.ravel(), np.repeat(row_doc, params.bands))
    uk, count = runs(seg.keys)
    last = store.conn.execute("SELECT COALESCE(MAX(docno), 0) FROM dedup_signatures").fetchone()[0]
    dead = _DeadKeys(store, index, params, first_new=int(last) + 1)
    cand, _ = _candidates(index, seg.keys, seg.docnos, uk, count, index.sizes(uk), params, dead)
    names.update(dead.names)
    names.update(store.docnos_to_ids(set(cand.ravel().tolist()) - set(names)))
    graph.load_pairs(holders)
    ids, pa, pb = _pairs_by_id(cand, names)
    new = np.array(
        [graph.g.pair(ids[x], ids[y]) is None for x, y in zip(pa.tolist(), pb.tolist(), strict=True)],
        dtype=bool,
    )
    return _verify_candidates(store, graph, ids, pa[new], pb[new], {}, params, changed, summary)


def _pairs_by_id(cand: np.ndarray, names: dict[int, str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Candidate pairs (docno, docno) as (ids, a, b): the articles' ids sorted, and each
    distinct pair once as positions in them, a < b, sorted by (a, b) (the order of the
    pairs of ids, in numbers rather than tuples of strings)."""
    nos = unique(cand)
    by_no = [names[n] for n in nos.tolist()]
    order = sorted(range(len(by_no)), key=by_no.__getitem__)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    x = rank[np.searchsorted(nos, cand[:, 0])] if len(cand) else np.zeros(0, np.int64)
    y = rank[np.searchsorted(nos, cand[:, 1])] if len(cand) else np.zeros(0, np.int64)
    packed = unique((np.minimum(x, y) << 32) | np.maximum(x, y))
    return [by_no[i] for i in order], packed >> 32, packed & 0xFFFFFFFF


def _recompute(
    store: DedupStore,
    graph: LazyGraph,
    changed: set[str],
    params: Params,
    summary: Summary,
    sets: dict[str, Stretch] | None = None,
    fresh: Collection[str] = frozenset(),
) -> None:
    """Bring flags, clusters and containment links up to date around `changed`.

    `sets`: sorted unique shingles of articles at hand (read from the store otherwise).
    `fresh`: articles indexed in this transaction, which have no cluster rows or
    containment links stored yet (withdrawing an article deletes its rows), so the
    store is not searched for theirs.
    """
    sets = dict(sets or {})
    g = graph.g
    graph.load_nodes(changed)
    s1 = graph.ball(changed)
    # The rules run compiled over the graph as arrays (`RuleGraph`), which takes in
    # each pair the graph loads on the way. (In any order within a pass: each rule
    # reads only the flags of the passes before it.)
    rules = RuleGraph(g, params, graph.batches(0))
    seen = len(graph.added)

    def take_in() -> None:  # (what the graph loaded since the last call)
        nonlocal seen
        rules.sync(graph.batches(seen))
        seen = len(graph.added)

    def load(ids: set[str]) -> set[str]:
        out = graph.ball(ids)
        take_in()
        return out

    def load_pairs(ids: set[str]) -> None:
        graph.load_pairs(ids)
        take_in()
        rules.copy_edges()

    b0 = rules.background(s1, skip_containers=False)
    # (ball(changed | x) is s1 | ball(x - changed): only the new part is walked)
    s2 = s1 | load(b0 - changed)
    cont = rules.containers(s2)
    s3 = s1 | load(cont - changed)
    bg = rules.background(s3, skip_containers=True)
    touched = b0 | cont | bg  # articles whose flags changed
    store.save_flags(
        (
            i,
            _jlist(g.nodes[i].background0),
            int(g.nodes[i].container),
            _jlist(g.nodes[i].background),
        )
        for i in sorted(touched)
    )

    # Region to recluster: edge-affected articles, their old clusters, closed under
    # copy edges (rule 4, the flags final now) and exact duplicates.
    region: set[str] = set()
    frontier = changed | cont | bg
    while frontier:
        region |= frontier
        nxt = store.members_of_clusters_of(frontier.difference(fresh))
        load_pairs(frontier)
        nxt |= rules.edge_neighbors(frontier, region)
        hashes = {g.nodes[i].text_hash for i in frontier if g.nodes[i].has_text}
        nxt.update(a for a, _ in store.same_text(hashes))
        graph.load_nodes(nxt)
        frontier = nxt - region
    load_pairs(region)
    comps = rules.components(region)

    need_text = [i for c in comps if len(c) > 1 for i in c if i not in sets]
    for doc in _indexed_docs(store, need_text, params):
        sets[doc.id] = doc.unique_stretch()
    member_rows: list[tuple[str, str, int, float, float, str | None, int]] = []
    cluster_rows: list[tuple[str, str, int, int]] = []
    cluster_of: dict[str, str] = {}
    # (an article alone is its own representative: no dates to read)
    node_of = g.nodes.__getitem__
    reps = [comp[0] if len(comp) == 1 else rel.representative(map(node_of, comp)).id for comp in comps]
    stats = _member_stats(comps, reps, sets)
    for comp, cid in zip(comps, reps, strict=True):
        if len(comp) == 1:  # (alone: its own representative, no duplicate of anything)
            cluster_of[cid] = cid
            member_rows.append((cid, cid, 1, 0.0, 1.0, None, int(node_of(cid).container)))
            cluster_rows.append((cid, cid, 1, 0))
            continue
        # The smallest id of an exact-duplicate group points at nothing, its twins at it.
        first_of_hash: dict[str, str] = {}
        for i in comp:
            if node_of(i).has_text:
                first_of_hash.setdefault(node_of(i).text_hash, i)
        dups = 0
        for i in comp:
            cluster_of[i] = cid
            node = node_of(i)
            twin = first_of_hash.get(node.text_hash) if node.has_text else None
            dup_of = twin if twin is not None and twin != i else None
            dups += dup_of is not None
            share, sim = stats[i]
            member_rows.append((i, cid, int(i == cid), share, sim, dup_of, int(node.container)))
        cluster_rows.append((cid, cid, len(comp), dups))

    # Containment links touching the region.
    cluster_of.update(store.cluster_of(rules.outside(region)))
    cluster_no: dict[str, int] = {}
    numbered = {i: cluster_no.setdefault(c, len(cluster_no)) for i, c in cluster_of.items()}
    cluster_ids = list(cluster_no)
    d_ids, m_ids, m_cluster, shares = rules.links(region, numbered)
    links = [
        (d, m, cluster_ids[c], round(share, 4))
        for d, m, c, share in zip(d_ids, m_ids, m_cluster.tolist(), shares.tolist(), strict=True)
    ]
    links = sorted(set(links))
    # A cluster of the region has all its members in it, so every link to it is one of
    # `links`: its count of containers is known here (those of other clusters are not).
    linked_by: dict[str, set[str]] = {}
    for d, _, cid, _ in links:
        linked_by.setdefault(cid, set()).add(d)
    store.replace_clusters(
        region.difference(fresh),
        member_rows,
        [(*row, len(linked_by.get(row[0], ()))) for row in cluster_rows],
    )
    summary.reclustered += len(region)
    dropped = store.replace_contains(region.difference(fresh), links)
    # Counts change, outside the region, in the clusters linked now and in those a
    # dropped link pointed at (a container that joined a cluster, say).
    store.refresh_container_counts(({r[2] for r in links} | dropped).difference(reps))


def _member_stats(
    comps: list[list[str]], reps: list[str], sets: dict[str, Stretch]
) -> dict[str, tuple[float, float]]:
    """Per member of a cluster of two or more: (share of its shingles found in the rest
    of its cluster, Jaccard with the representative), counted by
    `dedup.kernels.member_stats`. (An article alone, not in it, shares nothing and is
    its own representative: (0.0, 1.0).)"""
    multi = [(c, r) for c, r in zip(comps, reps, strict=True) if len(c) > 1]
    empty = np.zeros(0, np.uint32)
    # The sets are read where they lie (most are stretches of one array, the window's
    # sorted unique shingles: `stretches`), the others copied in the order of `sets`
    # (as they lie in memory: several times faster than in cluster order), and each
    # member is pointed at its own.
    members = [x for comp, _ in multi for x in comp]
    wanted = set(members)
    order = [x for x in sets if x in wanted]
    flat, extra, set_at, set_n = stretches([sets[x] for x in order] + [(empty, 0, 0)])
    where = dict(zip(order, range(len(order)), strict=True))
    no_set = len(order)  # (the empty one at the end)
    pick = np.array([where.get(x, no_set) for x in members], dtype=np.int64)
    start, lens = set_at[pick], set_n[pick]
    comp_start = np.cumsum([0] + [len(c) for c, _ in multi]).astype(np.int64)
    rep = comp_start[:-1] + np.array([c.index(r) for c, r in multi], np.int64)
    shared = np.zeros(len(lens), np.int64)
    inter = np.zeros(len(lens), np.int64)
    kernels.member_stats(flat, extra, start, lens, comp_start, rep, shared, inter)
    n_all, s_all, i_all = lens.tolist(), shared.tolist(), inter.tolist()
    counted: dict[str, tuple[float, float]] = {}
    for c, (comp, r) in enumerate(multi):
        m0 = int(comp_start[c])
        r_len = n_all[int(rep[c])]
        for k, x in enumerate(comp):
            n, s, inter_x = n_all[m0 + k], s_all[m0 + k], i_all[m0 + k]
            if not n:
                counted[x] = (0.0, 1.0 if x == r else 0.0)
            elif not r_len:
                counted[x] = (round(s / n, 4), 0.0)
            else:
                counted[x] = (round(s / n, 4), round(inter_x / (n + r_len - inter_x), 4))
    return counted


def update(
    conn: sqlite3.Connection,
    *,
    batch_size: int = 2000,
    commit_every: int = 100_000,
    totals: bool = True,
    progress: Callable[[Progress], None] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Index and cluster every article not indexed yet; see `dedup.update`.

    Articles are sketched and verified `batch_size` at a time; the derived tables are
    brought up to date and the transaction committed every `commit_every` articles, so
    an article's neighbourhood is reclustered once per commit rather than per batch,
    and a run killed mid-way keeps every commit before it.

    The summary returned ends with the index's totals (articles indexed, clusters,
    containers, pairs); counting them walks whole tables (at a million articles 0.5 s
    when their pages are not in SQLite's cache, 0.04 s when they are), so a caller that
    does not show them (the crawl, every few hundred articles) passes `totals=False`.

    `progress`, if given, is called with a `Progress` after each batch and at each
    step of a commit window.
    """
    params = Params.from_kwargs(kwargs)
    _check_sizes(batch_size, commit_every)
    with _no_cyclic_gc(), heap_kept():
        return _update(conn, params, batch_size, commit_every, totals, progress)


def _check_sizes(batch_size: int, commit_every: int) -> None:
    """A batch or a commit of no articles would never get through the queue."""
    for name, value in (("batch_size", batch_size), ("commit_every", commit_every)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of articles, 1 or more (got {value!r})")


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Run without the cyclic garbage collector (reference counting still frees
    everything as it goes). A window makes millions of small objects that live until
    it ends (pairs, nodes, dicts) and form no cycles, so the collector would only walk
    them over and over: 0.6 s of a 100k run with raised thresholds, and the run leaves
    20 unreachable objects behind either way (`gc.collect()` after it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _update(
    conn: sqlite3.Connection,
    params: Params,
    batch_size: int,
    commit_every: int,
    totals: bool,
    progress: Callable[[Progress], None] | None = None,
) -> dict[str, Any]:
    store = DedupStore(conn)
    started = time.perf_counter()
    summary = Summary()
    queued = 0

    def report(phase: str, indexed: int) -> None:
        if progress is not None:
            progress(Progress(phase, indexed, queued, time.perf_counter() - started))

    conn.execute("BEGIN IMMEDIATE")
    try:
        store.ensure_schema()
        store.check_params(params)
        queued = store.queued()  # (shown in progress; sizes a window's `Arena`)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        store.forget_lsh()
        raise
    # Articles changed or deleted since they were indexed leave the index first,
    # `commit_every` per transaction (each step leaves what a fresh build would).
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            stale = store.stale_articles(commit_every)
            if stale:
                report("withdrawing", summary.withdrawn)
                withdraw(store, stale, params, summary)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            store.forget_lsh()
            raise
        if len(stale) < commit_every:
            break
    after = None  # where the last page of pending articles ended
    arena = Arena()  # the shingles of each window's articles, one window after another
    while True:
        conn.execute("BEGIN IMMEDIATE")
        done = 0
        try:
            arena.start(min(commit_every, max(1, queued - summary.indexed)))
            window = Window(arena=arena)
            while done < commit_every:
                rows, after = store.pending_articles(min(batch_size, commit_every - done), after)
                if not rows:
                    break
                sketch_batch(store, rows, params, window)
                done += len(rows)
                summary.batches += 1
                report("sketching", summary.indexed + done)
            if done:
                report("pairing", summary.indexed + done)
                index = store.load_lsh()
                graph = LazyGraph(store)
                changed: set[str] = set()
                sets = pair_window(store, index, window, graph, changed, params, summary)
                fresh = set(window.docs)
                del window
                report("clustering", summary.indexed + done)
                _recompute(store, graph, changed, params, summary, sets, fresh)
                del sets
                report("committing", summary.indexed + done)
                store.save_lsh(index)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            store.forget_lsh()
            raise
        summary.indexed += done
        if done:
            report("committed", summary.indexed)
        if done < commit_every:
            break
    summary.seconds = time.perf_counter() - started
    if totals:
        summary.counts = store.counts()
    return summary.as_dict()


def rebuild(
    conn: sqlite3.Connection,
    *,
    batch_size: int = 2000,
    commit_every: int = 100_000,
    progress: Callable[[Progress], None] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Drop the dedup tables and index every article again."""
    Params.from_kwargs(kwargs)  # fail on bad parameters before dropping anything
    _check_sizes(batch_size, commit_every)
    conn.execute("BEGIN IMMEDIATE")
    try:
        DedupStore(conn).drop()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return update(
        conn, batch_size=batch_size, commit_every=commit_every, progress=progress, **kwargs
    )

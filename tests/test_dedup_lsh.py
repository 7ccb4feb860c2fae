"""The segmented LSH index: lookups equal a plain dict of buckets, and it persists."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.lsh import LshIndex, make_segment, merge
from dedup.store import DedupStore

entries = st.lists(
    st.lists(st.tuples(st.integers(-5, 40), st.integers(1, 30)), max_size=40), max_size=8
)


def _truth(batches: list[list[tuple[int, int]]]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for b in batches:
        for k, d in b:
            out[k].add(d)
    return out


def _index(batches: list[list[tuple[int, int]]], compact: bool) -> LshIndex:
    index = LshIndex()
    for b in batches:
        if b:
            k, d = zip(*b, strict=True)
            index.add(np.array(k), np.array(d))
        if compact:
            index.compact(max_segment=60)
    return index


@settings(max_examples=150, deadline=None)
@given(entries, st.booleans())
def test_lookups_equal_a_dict_of_buckets(batches: list, compact: bool) -> None:
    truth = _truth(batches)
    index = _index(batches, compact)
    keys = np.arange(-6, 42, dtype=np.int64)
    sizes = index.sizes(keys)
    q, d = index.members(keys)
    assert q.tolist() == sorted(q.tolist())
    for i, k in enumerate(keys.tolist()):
        got = d[q == i].tolist()
        # (The engine adds each article once, so no entry is in two segments.)
        assert set(got) == truth.get(k, set())
        assert sizes[i] == len(got)


@settings(max_examples=60, deadline=None)
@given(entries, st.booleans(), st.sampled_from([1, 10**9]))
def test_a_stored_index_read_back_answers_the_same(batches: list, compact: bool, runs_below: int) -> None:
    """Read back in a new process (nothing cached), segments hold their keys and read
    their docnos when a lookup needs them: the runs it found one by one, or whole."""
    import tempfile

    from dedup import lsh

    keys = np.arange(-6, 42, dtype=np.int64)
    q0, d0 = _index(batches, compact).members(keys)
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(lsh, "READ_RUNS_BELOW", runs_below)
        store = DedupStore(sqlite3.connect(Path(tmp) / "x.db", isolation_level=None))
        store.ensure_schema()
        store.save_lsh(_index(batches, compact))
        store.forget_lsh()  # (as a new process finds it)
        index = store.load_lsh()
        assert not any(s.docnos_read for s in index.segments)
        q, d = index.members(keys)
        assert q.tolist() == q0.tolist() and d.tolist() == d0.tolist()
        # One run per entry or fewer is few enough with a bound of 1: nothing was read
        # whole; with a bound nothing reaches, every segment a lookup found was.
        found = [bool(index.sizes(keys[np.isin(keys, s.keys)]).any()) for s in index.segments]
        assert [s.docnos_read for s in index.segments] == [f and runs_below > 1 for f in found]
        store.conn.close()


band_entries = st.lists(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 9), st.integers(1, 30)).map(
            lambda t: ((t[0] << 32) | (t[1] * 2**28), t[2])  # (band key, docno)
        ),
        max_size=40,
    ),
    max_size=6,
)


@settings(max_examples=80, deadline=None)
@given(band_entries, st.booleans(), st.lists(st.integers(1, 30), max_size=5), st.integers(0, 4))
def test_segments_held_as_bands_answer_as_int64_keys(
    batches: list, negative: bool, gone: list[int], bound: int
) -> None:
    """Band keys read back are held as bands (uint32 per band); lookups, hot buckets,
    removals and merges give what the same index in int64 keys gives. A negative key
    (keys hashed over several rows) keeps a segment in int64."""
    import tempfile

    if negative:
        batches = [*batches, [(-(2**40), 5), (7, 6)]]
    queries = np.unique(
        np.array([k for b in batches for k, _ in b] + [-1, 5, 4 << 32, (1 << 32) + 1], dtype=np.int64)
    )
    plain = _index(batches, compact=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = DedupStore(sqlite3.connect(Path(tmp) / "x.db", isolation_level=None))
        store.ensure_schema()
        store.save_lsh(_index(batches, compact=True))
        store.forget_lsh()
        index = store.load_lsh()
        for s, p in zip(index.segments, plain.segments, strict=True):
            assert (s.low is not None) == (p.keys[0] >= 0)  # (sorted: the first is the least)
            assert s.keys.tolist() == p.keys.tolist() and len(s) == len(p)
        for ix in (plain, index):
            ix.add(np.array([3 << 32, 7]), np.array([31, 31]))
            ix.compact(max_segment=60)
            ix.remove(np.array(gone))
        assert index.sizes(queries).tolist() == plain.sizes(queries).tolist()
        assert [x.tolist() for x in index.members(queries)] == [x.tolist() for x in plain.members(queries)]
        assert index.hot(bound).tolist() == plain.hot(bound).tolist()
        store.conn.close()


def test_docnos_not_read_come_from_the_blob_in_place(tmp_path: Path) -> None:
    """A lookup of a few keys in a large stored segment reads just their runs."""
    store = DedupStore(sqlite3.connect(tmp_path / "x.db", isolation_level=None))
    store.ensure_schema()
    index = LshIndex()
    n = 200_000
    index.add(np.arange(n, dtype=np.int64) // 2, np.arange(n, dtype=np.int32) + 7)
    store.save_lsh(index)
    store.forget_lsh()
    index = store.load_lsh()
    q, d = index.members(np.array([3, 50_000, n], dtype=np.int64))
    assert q.tolist() == [0, 0, 1, 1] and d.tolist() == [13, 14, 100_007, 100_008]
    assert not index.segments[0].docnos_read
    # Whole when they are needed whole (a removal rewrites the segment).
    index.remove(np.array([13]))
    assert index.sizes(np.array([3], dtype=np.int64)).tolist() == [1]


@settings(max_examples=150, deadline=None)
@given(entries, st.booleans(), st.integers(0, 6))
def test_hot_keys_are_the_buckets_over_the_bound(batches: list, compact: bool, bound: int) -> None:
    """`hot` (one pass per segment) equals counting every bucket, also after more adds."""
    index = _index(batches, compact)
    keys = np.arange(-6, 42, dtype=np.int64)

    def counted() -> list[int]:
        return keys[index.sizes(keys) > bound].tolist()

    assert index.hot(bound).tolist() == counted()
    index.add(np.array([7] * (bound + 1)), np.arange(100, 101 + bound))
    assert 7 in index.hot(bound).tolist()
    assert index.hot(bound).tolist() == counted()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-3, 30)), st.lists(st.integers(-5, 35)), st.booleans())
def test_galloping_ranges_equal_binary_searches(keys: list, queries: list, ordered: bool) -> None:
    """`kernels.ranges` finds what `np.searchsorted` left and right find, for sorted
    queries (its fast path), repeated ones and unsorted ones."""
    from dedup.kernels import ranges

    k = np.array(sorted(keys), dtype=np.int64)
    q = np.array(sorted(queries) if ordered else queries, dtype=np.int64)
    lo, hi = ranges(k, q)
    assert lo.tolist() == np.searchsorted(k, q, "left").tolist()
    assert hi.tolist() == np.searchsorted(k, q, "right").tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(0, 20) | st.integers(0, 2**32 - 1), max_size=12)
        | st.lists(st.integers(0, 300) | st.integers(0, 2**32 - 1), min_size=60, max_size=400),
        max_size=8,
    )
)
def test_segment_unique_equals_unique_per_segment(segments: list) -> None:  # type: ignore[type-arg]
    """`kernels.segment_unique` leaves at each segment's start what `unique` gives for it
    (short segments sort by comparison, long ones by radix: both are drawn)."""
    from dedup.kernels import segment_unique
    from dedup.sketch import unique

    values = np.array([x for seg in segments for x in seg], dtype=np.uint32)
    lens = np.array([len(seg) for seg in segments], dtype=np.int64)
    starts = np.cumsum(lens) - lens
    out, n = segment_unique(values, starts, lens)
    for seg, s0, k in zip(segments, starts.tolist(), n.tolist(), strict=True):
        assert out[s0 : s0 + k].tolist() == unique(np.array(seg, np.uint32)).tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-3, 12)), st.integers(1, 5))
def test_long_runs_are_the_values_repeated_enough(values: list[int], least: int) -> None:
    from dedup import kernels
    from dedup.lsh import runs

    x = np.sort(np.array(values, dtype=np.int64))
    keys, counts = runs(x)
    assert kernels.long_runs(x, least).tolist() == keys[counts >= least].tolist()


def test_radix_sort_sorts_every_length_and_byte() -> None:
    """The radix path of `kernels.segment_unique` at and around its threshold, with
    repeats and values differing in each of the four bytes only."""
    from dedup.kernels import _RADIX_FROM, segment_unique

    rng = np.random.default_rng(7)
    for n in (_RADIX_FROM - 1, _RADIX_FROM, _RADIX_FROM + 1, 333, 2000):
        for shift in (0, 8, 16, 24, None):
            if shift is None:
                x = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
            else:
                x = (rng.integers(0, 256, n, dtype=np.uint64) << np.uint64(shift)).astype(np.uint32)
            x[: n // 3] = x[n // 3 : 2 * (n // 3)]  # repeats
            out, k = segment_unique(x, np.zeros(1, np.int64), np.array([n], np.int64))
            assert out[: k[0]].tolist() == sorted(set(x.tolist()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2000) | st.integers(0, 2**63 - 1), max_size=300))
def test_radix_sort_equals_np_sort(values: list[int]) -> None:
    """The radix sort gives what `np.sort` gives, for small values (one pass) and for
    values of every width up to 63 bits (six passes of 11 bits, eight of 8)."""
    from dedup.kernels import radix_sort

    x = np.array(values, dtype=np.int64)
    assert radix_sort(x, 11).tolist() == np.sort(x).tolist()
    assert radix_sort(x, 8).tolist() == np.sort(x).tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40) | st.integers(0, 2**35) | st.integers(0, 2**62), st.integers(0, 3000)),
        max_size=300,
    ),
    st.booleans(),
)
def test_segment_is_its_entries_sorted_without_repeats(entries: list, in_order: bool) -> None:  # type: ignore[type-arg]
    """`make_segment` gives the distinct (key, docno) entries in (key, docno) order, with
    docnos ascending as a window adds them (the compiled sort then orders keys only and
    leans on its stability) or in any order (it sorts both), keys of every width its
    packing takes and past it (a lexsort then)."""
    if in_order:
        entries = sorted(entries, key=lambda e: e[1])
    keys = np.array([k for k, _ in entries], dtype=np.int64)
    docnos = np.array([d for _, d in entries], dtype=np.int32)
    seg = make_segment(keys, docnos)
    want = sorted(set(entries))
    assert list(zip(seg.keys.tolist(), seg.docnos.tolist(), strict=True)) == want
    assert seg.keys.dtype == np.int64 and seg.docnos.dtype == np.int32


def test_sort_takes_radix_only_where_it_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sketch.sort` (under `unique`, the LSH segments and lookups) equals `np.sort` on
    both of its paths: large non-negative int64 arrays, and everything else."""
    from dedup import sketch

    monkeypatch.setattr(sketch, "RADIX_SORT_FROM", 10)
    rng = np.random.default_rng(5)
    for x in (
        rng.integers(0, 2**35, 1000),  # radix
        rng.integers(-(2**35), 2**35, 1000),  # negative values: np.sort
        rng.integers(0, 2**32, 1000).astype(np.uint32),  # not int64: np.sort
        rng.integers(0, 2**35, 5),  # short: np.sort
    ):
        assert sketch.sort(x).tolist() == np.sort(x).tolist()
        assert sketch.unique(x).tolist() == np.unique(x).tolist()


def test_merge_keeps_every_entry_sorted() -> None:
    rng = np.random.default_rng(3)
    a = make_segment(rng.integers(0, 50, 300), rng.integers(0, 1000, 300))
    b = make_segment(rng.integers(0, 50, 200), rng.integers(0, 1000, 200))
    m = merge(a, b)
    assert np.all(np.diff(m.keys) >= 0)
    got = sorted(zip(m.keys.tolist(), m.docnos.tolist(), strict=True))
    want = sorted(
        list(zip(a.keys.tolist(), a.docnos.tolist(), strict=True))
        + list(zip(b.keys.tolist(), b.docnos.tolist(), strict=True))
    )
    assert got == want


def test_compaction_keeps_few_segments() -> None:
    index = LshIndex()
    for i in range(200):
        index.add(np.arange(i * 10, i * 10 + 10), np.full(10, i))
        index.compact()
    assert len(index.segments) <= 9  # O(log N): 2,000 entries in batches of 10
    assert index.sizes(np.array([0, 1995, 5000])).tolist() == [1, 1, 0]


def test_index_persists_and_a_rebuilt_segment_is_not_taken_from_the_cache(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    conn = sqlite3.connect(db, isolation_level=None)
    store = DedupStore(conn)
    store.ensure_schema()
    index = store.load_lsh()
    index.add(np.array([5, 6, 7]), np.array([1, 1, 2]))
    store.save_lsh(index)
    other = DedupStore(sqlite3.connect(db, isolation_level=None))
    assert other.load_lsh().sizes(np.array([5, 7, 8])).tolist() == [1, 1, 0]
    # Another process drops and rebuilds the index: same segment number, other content.
    conn2 = sqlite3.connect(db, isolation_level=None)
    conn2.execute("DELETE FROM dedup_lsh")
    conn2.execute("DELETE FROM sqlite_sequence WHERE name = 'dedup_lsh'")
    conn2.execute(
        "INSERT INTO dedup_lsh (segment, tag, entries, buckets, docnos) VALUES (1, 99, 1, ?, ?)",
        [np.array([8], "<i8").tobytes(), np.array([3], "<i4").tobytes()],
    )
    assert store.load_lsh().sizes(np.array([5, 7, 8])).tolist() == [0, 0, 1]


def test_row_layout_of_older_databases_is_migrated(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute(
        "CREATE TABLE dedup_lsh (bucket INTEGER NOT NULL, docno INTEGER NOT NULL, "
        "PRIMARY KEY (bucket, docno)) WITHOUT ROWID"
    )
    conn.executemany("INSERT INTO dedup_lsh VALUES (?, ?)", [(9, 1), (9, 2), (-4, 2)])
    store = DedupStore(conn)
    store.ensure_schema()
    assert "bucket" not in [r[1] for r in conn.execute("PRAGMA table_info(dedup_lsh)")]
    index = store.load_lsh()
    assert index.sizes(np.array([-4, 9, 10])).tolist() == [1, 2, 0]


def test_a_bucket_can_be_inspected(tmp_path: Path) -> None:
    """The persisted index answers "who else is in this article's buckets"."""
    import dedup
    from dedup.params import Params
    from dedup.sketch import band_keys
    from dedup.store import u32_blob
    from tests.test_dedup_core import make_db, story

    texts = {"a": story(1), "b": story(1) + "\n\n" + story(2, 1), "c": story(3)}
    conn = make_db(tmp_path / "x.db", texts)
    dedup.update(conn)
    aid, blob, n = conn.execute(
        "SELECT s.article_id, s.signatures, s.passages FROM dedup_signatures s "
        "JOIN articles a ON a.id = s.article_id WHERE a.url LIKE '%/a'"
    ).fetchone()
    params = Params()
    keys = band_keys(u32_blob(blob).reshape(n, params.num_perm), params)
    store = DedupStore(conn)
    ids = dict(conn.execute("SELECT url, id FROM articles").fetchall())
    seen = set().union(*(store.bucket_articles(int(k)) for k in keys.ravel()))
    assert aid in seen and ids["https://example.org/b"] in seen
    assert ids["https://example.org/c"] not in seen
    # A database from before withdrawn entries were kept has no table for them.
    conn.execute("DROP TABLE dedup_lsh_withdrawn")
    store.forget_lsh()
    assert set().union(*(store.bucket_articles(int(k)) for k in keys.ravel())) == seen
    # Deleted, "b" is withdrawn: out of its buckets, its entries still in the segments.
    conn.execute("DELETE FROM articles WHERE url LIKE '%/b'")
    with pytest.MonkeyPatch.context() as mp:
        from dedup import lsh

        mp.setattr(lsh, "PURGE_SHARE", 1.0)
        assert dedup.update(conn)["withdrawn"] == 1
    assert conn.execute("SELECT COUNT(*) FROM dedup_lsh_withdrawn").fetchone()[0] == 1
    assert set().union(*(store.bucket_articles(int(k)) for k in keys.ravel())) == {aid}


# Batches of articles, each article the keys of its entries (docnos numbered in order).
article_batches = st.lists(
    st.lists(st.lists(st.integers(-5, 40), min_size=1, max_size=6), max_size=8),
    min_size=1,
    max_size=6,
)


def _check_lookups(index: LshIndex, live: dict[int, set[int]], bound: int) -> None:
    keys = np.arange(-6, 42, dtype=np.int64)
    truth: dict[int, set[int]] = defaultdict(set)
    for docno, ks in live.items():
        for k in ks:
            truth[k].add(docno)
    q, d = index.members(keys)
    sizes = index.sizes(keys)
    for i, k in enumerate(keys.tolist()):
        assert sorted(d[q == i].tolist()) == sorted(truth.get(k, set()))
        assert sizes[i] == len(truth.get(k, set()))
    assert index.hot(bound).tolist() == [k for k in keys.tolist() if len(truth.get(k, ())) > bound]
    assert len(index) == sum(len(ks) for ks in live.values())


@settings(max_examples=150, deadline=None)
@given(article_batches, st.integers(0, 4), st.sampled_from([1, 2, 8]), st.data())
def test_withdrawn_articles_are_left_out_of_every_lookup(
    batches: list, bound: int, parts: int, data: st.DataObject
) -> None:
    """Articles withdrawn (their entries recorded, the segments left as they are) are
    out of sizes, members, hot buckets and the count, through later adds, merges and
    purges, whether their parts were merged, and so in the index read back from the
    database."""
    from dedup import lsh

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lsh, "WITHDRAWN_PARTS", parts)
        _withdraw_and_check(batches, bound, parts, data)


def _withdraw_and_check(batches: list, bound: int, parts: int, data: st.DataObject) -> None:
    import tempfile

    index, live, docno = LshIndex(), {}, 0
    for batch in batches:
        ks, ds = [], []
        for art in batch:
            docno += 1
            live[docno] = set(art)
            ks += art
            ds += [docno] * len(art)
        if ks:
            index.add(np.array(ks), np.array(ds))
        if data.draw(st.booleans(), "compact"):
            index.compact(max_segment=60)
        gone = data.draw(st.sets(st.sampled_from(sorted(live))), "gone") if live else set()
        if gone:
            pairs = [(k, g) for g in sorted(gone) for k in live.pop(g)]
            index.withdraw(np.array([k for k, _ in pairs]), np.array([g for _, g in pairs]))
        if data.draw(st.booleans(), "purge"):
            index.purge()
            assert not index.withdrawn
        assert len(index.withdrawn) <= parts
        _check_lookups(index, live, bound)
    with tempfile.TemporaryDirectory() as tmp:
        store = DedupStore(sqlite3.connect(Path(tmp) / "x.db", isolation_level=None))
        store.ensure_schema()
        store.save_lsh(index)
        store.forget_lsh()  # (as a new process finds it)
        back = store.load_lsh()
        assert len(back.withdrawn) == len(index.withdrawn)
        _check_lookups(back, live, bound)
        back.purge()
        store.save_lsh(back)
        assert store.conn.execute("SELECT COUNT(*) FROM dedup_lsh_withdrawn").fetchone()[0] == 0
        store.forget_lsh()
        _check_lookups(store.load_lsh(), live, bound)
        store.conn.close()


def test_a_merge_drops_the_withdrawn_entries_it_holds() -> None:
    """Segments merged anyway are written without the withdrawn entries they held,
    which then leave the withdrawn parts; those of segments not merged stay."""
    index = LshIndex()
    index.add(np.arange(100, dtype=np.int64), np.arange(100) // 10 + 1)  # articles 1-10
    index.add(np.arange(60, dtype=np.int64), np.arange(60) // 10 + 11)  # 11-16
    index.withdraw(np.arange(20, 30, dtype=np.int64), np.full(10, 3))
    index.withdraw(np.arange(10, 20, dtype=np.int64), np.full(10, 12))
    index.add(np.arange(5, dtype=np.int64), np.full(5, 17))  # too small to merge
    index.withdraw(np.arange(5, dtype=np.int64), np.full(5, 17))
    index.compact()
    assert [len(s) for s in index.segments] == [100, 60, 5]
    index.add(np.arange(200, 230, dtype=np.int64), np.arange(30) // 10 + 18)  # 18-20
    index.compact()  # 5 + 30 entries, then with 60, then with 100: one segment
    assert len(index.segments) == 1 and len(index.segments[0]) == 100 + 60 + 30 + 5 - 25
    assert not index.withdrawn and len(index) == 170
    assert 3 not in index.segments[0].docnos and 12 not in index.segments[0].docnos


def test_withdrawn_entries_leave_the_segments_past_a_tenth_of_the_index() -> None:
    """`needs_purge`: withdrawn entries are kept while they are at most `PURGE_SHARE`
    of all entries; `purge` rewrites the segments without them."""
    from dedup.lsh import PURGE_SHARE

    index = LshIndex()
    index.add(np.arange(1000, dtype=np.int64), np.arange(1000) // 10 + 1)  # 100 articles
    n = int(PURGE_SHARE * 100)
    index.withdraw(np.arange(10 * n, dtype=np.int64), np.arange(10 * n) // 10 + 1)
    assert not index.needs_purge() and len(index.segments[0]) == 1000
    index.withdraw(np.arange(10 * n, 10 * n + 10), np.full(10, n + 1))
    assert index.needs_purge()
    index.purge()
    assert len(index.segments[0]) == len(index) == 1000 - 10 * (n + 1)



@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 30), st.lists(st.integers(0, 30), max_size=6)),
        max_size=25,
    ),
    st.sampled_from([-1, 0, 12, 40]),
    st.lists(st.integers(0, 6), max_size=3, unique=True),
)
def test_bucket_meetings_are_every_entry_with_every_member(
    entries: list[tuple[int, int, list[int]]], new_from: int, suspect: list[int]
) -> None:
    """`kernels.bucket_meetings` pairs each entry (key, article) with each member of its
    bucket but itself; with `new_from`, two articles numbered from it on are paired
    from the lower one only; meetings on a suspect key come apart as (key, a, b)."""
    from dedup import kernels

    keys = np.array([k for k, _, _ in entries], dtype=np.int64)
    src = np.array([a for _, a, _ in entries], dtype=np.int64)
    sizes = np.array([len(m) for _, _, m in entries], dtype=np.int64)
    lo = np.cumsum(sizes) - sizes
    mem = np.array([x for _, _, m in entries for x in m], dtype=np.int32)
    packed, k, a, b = kernels.bucket_meetings(
        keys, src, lo, lo + sizes, mem, new_from, np.array(sorted(suspect), dtype=np.int64)
    )
    want_plain, want_odd = [], []
    for key, x, members in entries:
        for y in members:
            if x == y or (new_from >= 0 and x > y and y >= new_from):
                continue
            if key in suspect:
                want_odd.append((key, x, y))
            else:
                want_plain.append((min(x, y) << 32) | max(x, y))
    assert packed.tolist() == want_plain
    assert list(zip(k.tolist(), a.tolist(), b.tolist(), strict=True)) == want_odd


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 2**35), min_size=3, max_size=3), max_size=30),
    st.lists(st.integers(0, 2**35), max_size=40, unique=True),
    st.integers(0, 3),
)
def test_rows_holding_a_value_are_found_by_table(
    rows: list[list[int]], values: list[int], shared: int
) -> None:
    """`kernels.rows_holding` (an open-addressing table of the values) marks the rows
    that hold one of them, as `np.isin` does: random rows, rows holding a value, and
    values that differ from others in their high bits alone (band keys do)."""
    from dedup import kernels

    values = sorted({*values, *(v + (k << 40) for v in values[:shared] for k in (1, 2))})
    rows = rows + [[values[i], 5, 7] for i in range(0, len(values), 3)]
    r = np.array(rows, dtype=np.int64).reshape(-1, 3)
    v = np.array(values, dtype=np.int64)
    assert kernels.rows_holding(r, v).tolist() == np.isin(r, v).any(axis=1).tolist()


def test_rows_holding_finds_values_past_collisions() -> None:
    """Thousands of values in a table twice their number collide in many slots: a
    lookup probes past other values, and stops at an empty slot for the absent."""
    from dedup import kernels

    rng = np.random.default_rng(3)
    values = np.unique(rng.integers(0, 2**35, size=3000))
    absent = np.setdiff1d(rng.integers(0, 2**35, size=3000), values)
    first = np.concatenate([values, absent])
    rows = np.stack([first, rng.integers(0, 2**35, size=len(first))], axis=1)
    assert kernels.rows_holding(rows, values).tolist() == np.isin(rows, values).any(axis=1).tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(0, 2**62) | st.integers(0, 3000), max_size=3000), max_size=6
    )
)
def test_int_set_holds_each_value_once(batches: list[list[int]]) -> None:
    """`support.IntSet` against Python's set, over batches that grow its table (values
    repeated within and across batches, small ones colliding in their low bits)."""
    from dedup.support import IntSet

    s = IntSet()
    for b in batches:
        s.add(np.array(b, dtype=np.int64))
    want = sorted(set().union(*map(set, batches)))
    assert s.values().tolist() == want
    assert s.count == len(want) and len(s.table) >= 2 * len(want)

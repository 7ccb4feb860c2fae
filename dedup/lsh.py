"""The LSH index in memory: bucket key -> article docnos, as sorted immutable segments.

The index is written to SQLite as segments (`dedup_lsh`, see `dedup.store`): each
holds two arrays sorted by bucket key, keys and docnos. A batch of new articles adds
a segment; small segments are merged into their larger neighbours, so an index of N
entries has O(log N) segments (a log-structured merge, as in Bentley and Saxe's
static-to-dynamic transformation) and every lookup is one binary search per segment.
Compared with one SQLite row per (bucket, article), this turns ~50 B-tree inserts
and lookups per article into array appends and `np.searchsorted` over the batch.

Withdrawing an article (deleted, or changed and about to be indexed anew) does not
rewrite the segments that hold its entries: its entries are recorded as withdrawn
(`LshIndex.withdraw`), lookups leave them out (bucket sizes count them off, members
skip their article numbers), and they leave the segments physically when a merge
rewrites their segment anyway (`LshIndex.compact`) or once they are more than
`PURGE_SHARE` of the index (`LshIndex.purge`), as deleted documents wait for a merge
in Lucene's segments. Withdrawing 1,000 spread articles from a 1M
index otherwise reads every segment's article numbers and rewrites every segment.

Read back from the database, a segment holds its keys (as uint32 per band, half
their size) and leaves its docnos there until a lookup finds entries (then it reads
those runs from the blob) or a merge or removal needs them all: a new process adding
a crawl's articles to a large index holds a third of its bytes (see `Segment`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from dedup import kernels
from dedup.sketch import sort

# A merge stops growing a segment past this many entries: 8M keys are a 64 MB blob,
# well under SQLite's 1 GB limit on one value, and merging them takes a second.
MAX_SEGMENT = 8_000_000
# A lookup reads the runs it found from a stored segment one by one when there are at
# most one per this many entries, else the segment's docnos whole. Measured on a 1M
# index: a run costs 0.6-1 us to read, the whole array some 40 ns an entry, so runs
# this sparse cost a few percent of reading it whole.
READ_RUNS_BELOW = 1000
# Withdrawn entries leave the segments (each segment holding some is rewritten) once
# they are more than this share of all entries: until then lookups skip them.
PURGE_SHARE = 0.1
# Withdrawn entries are kept in at most this many parts (one per update that withdrew
# articles, merged into one past it): a lookup searches each part.
WITHDRAWN_PARTS = 8


class DocnoSource(Protocol):
    """Where the docnos of a segment that is stored but not read yet come from."""

    def read_docnos(self, segment: Segment) -> np.ndarray: ...

    def read_docno_ranges(self, segment: Segment, lo: np.ndarray, hi: np.ndarray) -> np.ndarray: ...


class Segment:
    """Sorted (bucket key, docno) entries: `keys` int64 sorted, `docnos` int32.

    Read back from the database, a segment leaves its docnos there until they are
    needed whole (a merge, a removal): a lookup reads just the runs it found
    (`docnos_in`). And its keys, when they are band keys of one row each, (band << 32)
    | MinHash value, are held as bands: each band's values as uint32 (`low`, sorted
    within a band) and where each band starts (`band_at`), half the bytes of int64
    keys; `keys` makes the int64 array when something needs it whole. A new crawl's
    update looks up a few thousand keys in an index of tens of millions of entries: it
    reads a third of the index's bytes.
    """

    __slots__ = ("_keys", "low", "band_at", "_docnos", "id", "tag", "source")

    def __init__(
        self,
        keys: np.ndarray | None,
        docnos: np.ndarray | None = None,
        id: int | None = None,  # its row in dedup_lsh; None until written
        tag: int = 0,  # random, written with it (see `dedup.store`)
        source: DocnoSource | None = None,  # where docnos=None are read from
        *,
        banded: tuple[np.ndarray, np.ndarray] | None = None,  # (low, band_at) for keys=None
    ) -> None:
        if docnos is None and source is None:
            raise ValueError("a segment without its docnos needs a source to read them from")
        if (keys is None) == (banded is None):
            raise ValueError("a segment has its keys either as int64 or as bands")
        self._keys, self._docnos, self.id, self.tag, self.source = keys, docnos, id, tag, source
        self.low: np.ndarray | None = None
        self.band_at: np.ndarray | None = None
        if banded is not None:
            self.low, self.band_at = banded

    def __len__(self) -> int:
        return len(self._keys) if self._keys is not None else len(self.low)  # type: ignore[arg-type]

    @property
    def keys(self) -> np.ndarray:
        """The int64 keys (made from the bands, not kept, when the segment holds bands)."""
        if self._keys is not None:
            return self._keys
        assert self.low is not None and self.band_at is not None
        band = np.repeat(np.arange(len(self.band_at) - 1, dtype=np.int64), np.diff(self.band_at))
        return (band << 32) | self.low.astype(np.int64)

    def ranges(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`kernels.ranges` of sorted int64 queries in this segment's keys."""
        if self._keys is not None:
            return kernels.ranges(self._keys, queries)
        assert self.low is not None and self.band_at is not None
        return kernels.banded_ranges(self.low, self.band_at, queries)

    def long_runs(self, least: int) -> np.ndarray:
        """`kernels.long_runs` of this segment's keys, as int64 keys."""
        if self._keys is not None:
            return kernels.long_runs(self._keys, least)
        assert self.low is not None and self.band_at is not None
        at = self.band_at.tolist()
        found = [np.zeros(0, np.int64)] + [
            (b << 32) | kernels.long_runs(self.low[at[b] : at[b + 1]], least).astype(np.int64)
            for b in range(len(at) - 1)
        ]
        return np.concatenate(found)

    def without(self, hit: np.ndarray) -> Segment:
        """A new segment (not stored) of the entries not `hit`, its keys held alike."""
        docnos = self.docnos[~hit]
        if self._keys is not None:
            return Segment(self._keys[~hit], docnos)
        assert self.low is not None and self.band_at is not None
        kept = np.concatenate(([0], np.cumsum(~hit)))
        return Segment(None, docnos, banded=(self.low[~hit], kept[self.band_at]))

    @property
    def docnos(self) -> np.ndarray:
        """The docno of each entry (read whole from the source on first use)."""
        if self._docnos is None:
            if self.source is None:
                raise RuntimeError(f"LSH segment {self.id}: its docnos were not read and it has no source")
            self._docnos = self.source.read_docnos(self)
        return self._docnos

    @property
    def docnos_read(self) -> bool:
        return self._docnos is not None

    def docnos_in(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The docnos of entries lo[k]:hi[k], one run after the other (runs not empty).

        Runs are read from the source one by one while they are few (up to one per
        `READ_RUNS_BELOW` entries, when reading them costs less than reading all);
        otherwise, or once they are in memory, taken from the whole array.
        """
        if self._docnos is None and len(lo) * READ_RUNS_BELOW <= len(self):
            assert self.source is not None
            return self.source.read_docno_ranges(self, lo, hi)
        n = hi - lo
        first = np.cumsum(n) - n
        at = np.repeat(lo - first, n) + np.arange(int(n.sum()), dtype=np.int64)
        return self.docnos[at]


def make_segment(keys: np.ndarray, docnos: np.ndarray) -> Segment:
    """A segment from unsorted (key, docno) entries, duplicates dropped."""
    keys = np.asarray(keys, dtype=np.int64)
    docnos = np.asarray(docnos, dtype=np.int32)
    if not len(keys):
        return Segment(keys, docnos)
    bits = max(1, int(docnos.max()).bit_length())
    if keys.min() >= 0 and int(keys.max()).bit_length() + bits <= 63:
        # Both in one int64 (band keys of one row are 35 bits): a radix sort, 10x a lexsort.
        return Segment(*kernels.segment_entries(keys, docnos, bits))
    order = np.lexsort((docnos, keys))
    k, d = keys[order], docnos[order]
    if len(k) > 1:
        keep = np.empty(len(k), dtype=bool)
        keep[0] = True
        keep[1:] = (k[1:] != k[:-1]) | (d[1:] != d[:-1])
        k, d = k[keep], d[keep]
    return Segment(k, d)


def merge(a: Segment, b: Segment) -> Segment:
    """One sorted segment of both (linear: b's entries are placed among a's)."""
    n = len(a) + len(b)
    a_keys, b_keys = a.keys, b.keys  # (made once, for a segment that holds bands)
    at = np.searchsorted(a_keys, b_keys, side="right") + np.arange(len(b))
    from_b = np.zeros(n, dtype=bool)
    from_b[at] = True
    keys = np.empty(n, dtype=np.int64)
    docnos = np.empty(n, dtype=np.int32)
    keys[at], docnos[at] = b_keys, b.docnos
    keys[~from_b], docnos[~from_b] = a_keys, a.docnos
    return Segment(keys, docnos)


def _flags(docnos: np.ndarray) -> np.ndarray:
    """A flag per docno up to the largest of these, set for these."""
    flags = np.zeros(int(docnos.max()) + 1 if len(docnos) else 0, dtype=bool)
    flags[docnos] = True
    return flags


def _flagged(flags: np.ndarray, docnos: np.ndarray) -> np.ndarray:
    """For each docno, whether `flags` (see `_flags`) has it set."""
    inside = docnos < len(flags)
    out = np.zeros(len(docnos), dtype=bool)
    out[inside] = flags[docnos[inside]]
    return out


def runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, how many times each occurs) of a sorted array."""
    if not len(x):
        return x, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    return x[starts], np.diff(np.append(starts, len(x)))


class LshIndex:
    """Segments, oldest (largest) first. Lookups take sorted unique int64 keys (any
    keys work; sorted ones are found fastest, see `dedup.kernels.ranges`)."""

    def __init__(
        self, segments: list[Segment] | None = None, withdrawn: list[Segment] | None = None
    ) -> None:
        self.segments: list[Segment] = list(segments or [])
        # Entries of withdrawn articles still in `segments`, one part per `withdraw`
        # (stored ones have an id, see `dedup.store`); lookups leave them out.
        self.withdrawn: list[Segment] = list(withdrawn or [])
        self._gone: np.ndarray | None = None  # withdrawn, by docno (see `_withdrawn_flags`)
        self._hot: dict[int, np.ndarray] = {}  # max_bucket -> `hot(max_bucket)`

    def __len__(self) -> int:
        """Entries that lookups see (withdrawn ones left out)."""
        return sum(len(s) for s in self.segments) - sum(len(w) for w in self.withdrawn)

    def add(self, keys: np.ndarray, docnos: np.ndarray) -> None:
        if len(keys):
            self.segments.append(make_segment(keys, docnos))
            self._hot.clear()

    def withdraw(self, keys: np.ndarray, docnos: np.ndarray) -> None:
        """Leave these entries (key, docno), all of their articles', out of every lookup
        from now on. They must be in the index, and their docnos never used again."""
        if len(keys):
            self.withdrawn.append(make_segment(keys, docnos))
            if len(self.withdrawn) > WITHDRAWN_PARTS:
                self.withdrawn = [
                    make_segment(
                        np.concatenate([w.keys for w in self.withdrawn]),
                        np.concatenate([w.docnos for w in self.withdrawn]),
                    )
                ]
            self._gone = None
            self._hot.clear()

    def needs_purge(self) -> bool:
        """Whether the withdrawn entries are more than `PURGE_SHARE` of all entries."""
        withdrawn = sum(len(w) for w in self.withdrawn)
        return withdrawn > 0 and withdrawn > PURGE_SHARE * sum(len(s) for s in self.segments)

    def purge(self) -> None:
        """Drop the withdrawn entries from the segments holding them (`remove`)."""
        if self.withdrawn:
            gone = np.concatenate([w.docnos for w in self.withdrawn])
            self.withdrawn = []
            self._gone = None
            self.remove(gone)

    def _withdrawn_flags(self) -> np.ndarray | None:
        """A flag per docno, set for the withdrawn ones (`_flags`); None if none is."""
        if not self.withdrawn:
            return None
        if self._gone is None:
            self._gone = _flags(np.concatenate([w.docnos for w in self.withdrawn]))
        return self._gone

    def _forget_withdrawn(self, flags: np.ndarray) -> None:
        """Drop the withdrawn entries of the docnos flagged (`_flags`): they have left
        the segments."""
        parts = [w.without(_flagged(flags, w.docnos)) for w in self.withdrawn]
        self.withdrawn = [w for w in parts if len(w)]
        self._gone = None
        self._hot.clear()

    def remove(self, docnos: np.ndarray) -> None:
        """Drop every entry of these docnos: each segment holding some is replaced by one
        without them (not stored yet, see `dedup.store.DedupStore.save_lsh`). Their
        withdrawn entries, if any, are dropped with them (see `withdraw`)."""
        docnos = np.asarray(docnos, dtype=np.int64)
        if not len(docnos):
            return
        gone = _flags(docnos)
        kept = []
        for s in self.segments:
            hit = _flagged(gone, s.docnos)
            if not hit.any():
                kept.append(s)
            elif not hit.all():
                kept.append(s.without(hit))
        self.segments = kept
        self._forget_withdrawn(gone)

    def hot(self, max_bucket: int) -> np.ndarray:
        """The keys whose bucket holds more than `max_bucket` entries, sorted (kept
        until the next `add`).

        One pass over each segment instead of a lookup per key: a bucket over the
        bound has more than max_bucket / (number of segments) entries in one of them,
        so only such keys need their size counted.
        """
        if max_bucket not in self._hot:
            least = -(-(max_bucket + 1) // max(1, len(self.segments)))
            found = [np.zeros(0, np.int64)]
            for s in self.segments:
                found.append(s.long_runs(least))
            some = np.unique(np.concatenate(found))
            self._hot[max_bucket] = some[self.sizes(some) > max_bucket]
        return self._hot[max_bucket]

    def sizes(self, keys: np.ndarray) -> np.ndarray:
        """Number of articles in each bucket of `keys`."""
        out = np.zeros(len(keys), dtype=np.int64)
        for s in self.segments:
            lo, hi = s.ranges(keys)
            out += hi - lo
        for w in self.withdrawn:
            lo, hi = w.ranges(keys)
            out -= hi - lo
        return out

    def members(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in `keys`, docno) of every entry in these buckets, by position."""
        qs, ds = [], []
        gone = self._withdrawn_flags()
        for s in self.segments:
            lo, hi = s.ranges(keys)
            n = hi - lo
            found = np.flatnonzero(n)
            if not len(found):
                continue
            q, d = np.repeat(found, n[found]), s.docnos_in(lo[found], hi[found])
            if gone is not None:
                live = ~_flagged(gone, d)
                q, d = q[live], d[live]
            qs.append(q)
            ds.append(d)
        if not qs:
            return np.zeros(0, np.int64), np.zeros(0, np.int32)
        if len(qs) == 1:
            return qs[0], ds[0]
        q, d = np.concatenate(qs), np.concatenate(ds)
        # A stable sort by position in `keys`, as one plain sort of (position, entry).
        order = sort((q << 32) | np.arange(len(q), dtype=np.int64)) & 0xFFFFFFFF
        return q[order], d[order]

    def compact(self, max_segment: int = MAX_SEGMENT) -> None:
        """Merge the newest segment into older ones while it is at least half their
        size (each entry is rewritten O(log N) times over the life of the index).
        A merged segment is written without the withdrawn entries it held (an article's
        entries all lie in one segment), and they leave the withdrawn parts."""
        segs = self.segments
        while (
            len(segs) > 1
            and 2 * len(segs[-1]) >= len(segs[-2])
            and len(segs[-1]) + len(segs[-2]) <= max_segment
        ):
            b = segs.pop()
            a = segs.pop()
            merged = merge(a, b)
            gone = self._withdrawn_flags()
            if gone is not None:
                hit = _flagged(gone, merged.docnos)
                if hit.any():
                    self._forget_withdrawn(_flags(merged.docnos[hit]))
                    merged = merged.without(hit)
            if len(merged):
                segs.append(merged)

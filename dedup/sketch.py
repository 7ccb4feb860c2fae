"""Shingles and MinHash keys for a batch of articles, with no Python code per word.

Each text is cleaned whole (`dedup.normalize.clean_text`), and everything after that
works on arrays of the whole batch:

1. One compiled pass over the UTF-8 bytes of the batch's texts (`dedup.kernels.
   text_words`) finds the passages of `dedup.normalize.passage_texts` (lines stripped,
   repeats and furniture dropped, long ones cut at sentence ends; the few lines a
   regex must judge are judged in Python) and their words, runs of letters, digits
   and `_` (`dedup.normalize.words`): each character's class is looked up by its code
   point, decoded at its lead byte. Each word hashes to a polynomial of its bytes (64
   bits) as the pass walks them.
2. Word k-gram (shingle) hashes by folding k consecutive word hashes with odd
   multipliers; windows that cross a passage end are dropped. Shingles are 32 bits,
   unique within their passage, in the order they first occur (compiled, per passage).
3. One MinHash per passage: datasketch's "affine32" permutations of the finalized
   shingle hash, the minimum taken per passage (compiled: one pass per passage). This
   equals `datasketch.MinHash(num_perm, seed, hashfunc=identity)` fed the same
   shingles (a test checks it). With `rows=1` each MinHash value is an LSH key of its
   own: two passages collide in a band with probability equal to their Jaccard
   similarity (Mining of Massive Datasets, ch. 3.4).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash
from datasketch.minhash import _fmix

from dedup import kernels
from dedup.normalize import (
    _NONWORD,
    CREDIT_LABELS,
    CREDIT_PHRASE,
    _furniture,
    clean_text,
    long_chunks,
)
from dedup.params import Params

_U64 = np.uint64
# Odd multipliers to fold k word hashes into one shingle hash (mod 2^64).
_FOLD = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x27D4EB2F165667C5,
        0x94D049BB133111EB,
    ],
    dtype=_U64,
)


# A stretch of an array: (array, start, length).
Stretch = tuple[np.ndarray, int, int]


@dataclass
class Doc:
    """One article's shingles, ready for verification."""

    id: str  # articles.id
    text_hash: str  # xxh64 of the normalized words: equal means exact duplicate
    shingles: np.ndarray  # uint32 shingle hashes, passage after passage (unique within one)
    offsets: np.ndarray  # int64 start of each passage in `shingles`

    _sizes: list[int] | None = None
    _unique: np.ndarray | None = None  # `unique(shingles)`, once computed
    # (array, start): `shingles` is array[start:start + len], the window's `Arena`
    _home: tuple[np.ndarray, int] | None = None
    # (array, start): `_unique` is array[start:start + len] (`unique_segments`)
    _unique_home: tuple[np.ndarray, int] | None = None

    def unique_shingles(self) -> np.ndarray:
        """The sorted unique shingles of the whole article."""
        if self._unique is None:
            self._unique = unique(self.shingles)
        return self._unique

    def unique_stretch(self) -> Stretch:
        """The sorted unique shingles as (array, start, length): where they lie, in the
        array `unique_segments` made for many articles at once, or in an array of their
        own (see `stretches`)."""
        u = self.unique_shingles()
        if self._unique_home is not None:
            return self._unique_home[0], self._unique_home[1], len(u)
        return u, 0, len(u)

    @property
    def n_passages(self) -> int:
        return len(self.offsets)

    def passage_sizes(self) -> list[int]:
        """Shingles per passage (computed once)."""
        if self._sizes is None:
            self._sizes = np.diff(np.append(self.offsets, len(self.shingles))).tolist()
        return self._sizes


@dataclass
class Batch:
    """Shingles of a batch of articles: passages of all docs, one after the other."""

    shingles: np.ndarray  # uint32, passage after passage, unique within a passage
    passage_offsets: np.ndarray  # int64 start of each passage in `shingles`
    doc_passages: np.ndarray  # int64 number of passages of each doc
    text_hashes: list[str]  # per doc: xxh64 of its normalized words ('' when empty)
    # (array, start): `shingles` is array[start:start + len], once an `Arena` took them
    home: tuple[np.ndarray, int] | None = None

    def doc_slices(self) -> list[tuple[int, int, int, int]]:
        """Per doc: (first passage, end passage, first shingle, end shingle)."""
        pend = np.cumsum(self.doc_passages)
        pstart = pend - self.doc_passages
        ends = np.append(self.passage_offsets, len(self.shingles))
        return [
            (int(a), int(b), int(ends[a]), int(ends[b]))
            for a, b in zip(pstart.tolist(), pend.tolist(), strict=True)
        ]

    def docs(self, ids: list[str]) -> list[Doc]:
        """The batch cut back into one `Doc` per article (views, no copies). Their sorted
        unique shingles are left to be computed when needed, for many articles in one
        compiled call (`fill_unique`, `dedup.verify.verify_indexed`): a window of
        articles waiting to be paired would otherwise hold every article's shingles
        twice."""
        out = []
        sizes = np.diff(np.append(self.passage_offsets, len(self.shingles))).tolist()
        slices = self.doc_slices()
        starts = np.array([s0 for _, _, s0, _ in slices], dtype=np.int64)
        # Each passage's start within its own doc, for all passages at once.
        local = self.passage_offsets - np.repeat(starts, self.doc_passages)
        base, at = self.home if self.home is not None else (None, 0)
        for aid, th, (p0, p1, s0, s1) in zip(ids, self.text_hashes, slices, strict=True):
            home = (base, at + s0) if base is not None else None
            out.append(Doc(aid, th, self.shingles[s0:s1], local[p0:p1], sizes[p0:p1], None, home))
        return out


class Arena:
    """One array the shingles of a window's batches are copied into, batch after batch,
    so that verification reads every article's where it lies (`dedup.verify.verify_indexed`)
    instead of copying them all once more: at 100k articles 160 MB less memory to fault
    in. Sized from the first batch for the `docs` articles expected (those queued, up to
    a commit window), a quarter over; pages never written are never touched. A batch
    that does not fit starts a new array, sized for the articles still expected
    (verification then copies, as without an arena).

    One arena serves window after window (`start`): the next window writes over the
    array from its start, pages already faulted in, once nothing of the last one points
    into it any more."""

    def __init__(self, docs: int = 0) -> None:
        self.base: np.ndarray | None = None
        self.start(docs)

    def start(self, docs: int) -> None:
        """Begin a window of about `docs` articles."""
        self.docs = docs  # articles expected in all
        self.fill = 0
        self.taken_docs = 0
        self.taken = 0  # shingles
        # (a view of the array holds a reference to it: then it is left to them)
        if self.base is not None and sys.getrefcount(self.base) > 2:
            self.base = None

    def take(self, batch: Batch) -> None:
        """Copy the batch's shingles in; the batch then holds a view of them (`home`)."""
        n, n_docs = len(batch.shingles), len(batch.doc_passages)
        self.taken_docs += n_docs
        self.taken += n
        if self.base is None or self.fill + n > len(self.base):
            per_doc = self.taken / max(1, self.taken_docs)
            left = max(0, self.docs - self.taken_docs)
            self.base = np.empty(n + int(1.25 * per_doc * left), dtype=np.uint32)
            self.fill = 0
        self.base[self.fill : self.fill + n] = batch.shingles
        batch.shingles = self.base[self.fill : self.fill + n]
        batch.home = (self.base, self.fill)
        self.fill += n


def concat(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the arrays one after the other, start of each, length of each)."""
    lens = np.array([len(x) for x in arrays], dtype=np.int64)
    flat = np.concatenate(arrays) if arrays else np.zeros(0, np.uint32)
    return flat, np.cumsum(lens) - lens, lens


def stretches(items: list[Stretch]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint32 stretches (`Doc.unique_stretch`) as parts of two arrays: (main, extra, start,
    lens). Stretch i is main[start[i]:][:lens[i]], or extra[start[i] - len(main):][:lens[i]]
    where start[i] is len(main) or more. `main` is the array that holds the most values
    (the sorted unique shingles of a window's articles): they are read where they lie,
    and the other stretches are copied into `extra`, one after the other."""
    lens = np.array([n for _, _, n in items], dtype=np.int64)
    held: dict[int, int] = {}  # id of an array -> values of the stretches in it
    arrays: dict[int, np.ndarray] = {}
    for a, _, n in items:
        held[id(a)] = held.get(id(a), 0) + n
        arrays[id(a)] = a
    main = arrays[max(held, key=held.__getitem__)] if held else None
    if main is None or not (
        main.dtype == np.uint32 and main.ndim == 1 and main.flags.c_contiguous and main.flags.writeable
    ):  # (the compiled reader takes two arrays of one type)
        main = np.zeros(0, np.uint32)
    in_main = np.array([a is main for a, _, _ in items], dtype=bool)
    start = np.array([s0 for _, s0, _ in items], dtype=np.int64)
    out_lens = np.where(in_main, 0, lens)
    start = np.where(in_main, start, len(main) + np.cumsum(out_lens) - out_lens)
    others = [a[s0 : s0 + n] for a, s0, n in items if a is not main and n]
    extra = np.concatenate(others).astype(np.uint32, copy=False) if others else np.zeros(0, np.uint32)
    return main, extra, start, lens


def unique_segments(
    docs: list[Doc],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The docs' shingles one after the other (flat, start of each, length of each) and
    their sorted unique shingles, doc d's at uniq[start[d]:][:n_uniq[d]], in one compiled
    call; each doc without its unique shingles yet is given them (views of `uniq`).
    Returns (flat, start, lens, uniq, n_uniq).

    Where every doc's shingles lie in one array (an `Arena`) and fill at least half of
    the stretch between the first and the last, that array is `flat`, as it is: nothing
    is copied, and the docs need not be in its order. (The unique shingles land in an
    array as large, at the same places: a few docs scattered over the arena would have
    most of its pages faulted in for them, so those are copied.)"""
    flat = None
    base = docs[0]._home[0] if docs and docs[0]._home is not None else None
    if base is not None and all(d._home is not None and d._home[0] is base for d in docs):
        start = np.array([d._home[1] for d in docs if d._home is not None], dtype=np.int64)
        lens = np.array([len(d.shingles) for d in docs], dtype=np.int64)
        if 2 * int(lens.sum()) >= int((start + lens).max()) - int(start.min()):
            flat = base
    if flat is None:
        flat, start, lens = concat([d.shingles for d in docs])
    uniq, n_uniq = kernels.segment_unique(flat, start, lens)
    for d, s0, n in zip(docs, start.tolist(), n_uniq.tolist(), strict=True):
        if d._unique is None:
            d._unique = uniq[s0 : s0 + n]
            d._unique_home = (uniq, s0)
    return flat, start, lens, uniq, n_uniq


def fill_unique(docs: Iterable[Doc]) -> None:
    """Give every doc that has none yet its sorted unique shingles, in one compiled call."""
    todo = [d for d in docs if d._unique is None]
    if todo:
        unique_segments(todo)


# From this many values on, non-negative int64 arrays sort by radix (`kernels.radix_sort`).
RADIX_SORT_FROM = 100_000


def sort(x: np.ndarray) -> np.ndarray:
    """`np.sort` of a flattened copy; large arrays of non-negative int64 (packed pairs,
    LSH entries) by radix, twice as fast."""
    x = np.ravel(x)
    if x.dtype == np.int64 and len(x) >= RADIX_SORT_FROM and x.min() >= 0:
        return kernels.radix_sort(x, 11)
    return np.sort(x)


def unique(x: np.ndarray) -> np.ndarray:
    """Sorted unique values (flattened): `np.unique` without its hash pass, many times
    faster on ints."""
    x = sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


# Word hashes: a polynomial hash of the word's UTF-8 bytes, h = sum b[j] * P^(n-1-j)
# mod 2^64 (Horner's rule, byte by byte, in `dedup.kernels.text_words`), then
# h ^ (n * LEN), mixed by MurmurHash3's fmix64.
_P = _U64(0x9E3779B97F4A7C15)
_LEN = _U64(0xC2B2AE3D27D4EB4F)


def shingle_hash(words: list[str]) -> int:
    """The shingle of k words, as `shingle_batch` computes it (a reference for tests)."""
    acc = sum(word_hash(w) * int(_FOLD[j % len(_FOLD)]) for j, w in enumerate(words)) % 2**64
    return int(_fmix(np.array([acc], _U64), 64)[0] >> 32)


def word_hash(word: str) -> int:
    """The hash of one word, as `word_hashes` computes it (a reference for tests)."""
    h = 0
    data = word.encode("utf-8", "surrogatepass")
    for byte in data:
        h = (h * int(_P) + byte) % 2**64
    mixed = _fmix(np.array([h ^ ((len(data) * int(_LEN)) % 2**64)], _U64), 64)
    return int(mixed[0])


# Every character `str.isspace` knows (a test checks the list is complete).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# The characters `str.splitlines` ends a line at (a test checks the list is complete).
LINE_BREAKS = "\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029"
# The code points that end a word: all that `dedup.normalize.words` turns into spaces,
# and whitespace, where `str.split` cuts.
_SEPARATORS = {*_NONWORD, *map(ord, WHITESPACE)}
# Each character below U+10000 (every one of the above is) by its classes in
# `dedup.kernels.text_words`: line break, whitespace, word separator.
_CHAR_CLASS = np.zeros(0x10000, dtype=np.uint8)
_CHAR_CLASS[[ord(c) for c in LINE_BREAKS]] |= kernels.BREAK
_CHAR_CLASS[[ord(c) for c in WHITESPACE]] |= kernels.SPACE
_CHAR_CLASS[sorted(_SEPARATORS)] |= kernels.SEP


def _bytes_of(items: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as their UTF-8 bytes back to back, and where each ends. (Lone
    surrogates, as broken JSON escapes leave them, are encoded, not an error.)"""
    data = [x.encode("utf-8", "surrogatepass") for x in items]
    ends = np.cumsum([len(x) for x in data], dtype=np.int64)
    return np.frombuffer(b"".join(data), dtype=np.uint8), ends


# The furniture rules of `dedup.normalize._furniture` as the compiled pass applies them:
# CREDIT_LINE's labels and phrase, and the endings of a teaser cut short (TRUNCATED with
# nothing after its mark; a line ending with ")" is left to the regex).
_LABELS, _LABEL_ENDS = _bytes_of(CREDIT_LABELS)
_PHRASE = np.frombuffer(CREDIT_PHRASE.encode(), dtype=np.uint8)
_TAILS, _TAIL_ENDS = _bytes_of(["[…]", "[...]", "…", "..."])


def _text_words(b: np.ndarray, ends: np.ndarray, max_words: int, raw: bool) -> tuple[np.ndarray, np.ndarray]:
    """`dedup.kernels.text_words` with this module's tables (`max_words`: unused when `raw`)."""
    return kernels.text_words(
        b, ends, _CHAR_CLASS, _P, _LEN, _LABELS, _LABEL_ENDS, _PHRASE, _TAILS, _TAIL_ENDS,
        max_words, raw,
    )  # fmt: skip


def word_hashes(passages: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 hash of every word, passage after passage; int64 words of each passage).

    The words are those of `dedup.normalize.words`, found on the UTF-8 bytes of the
    passages by a compiled loop (`dedup.kernels.text_words`, each passage taken whole)
    that looks up each character's class as it walks the bytes and hashes each word.
    """
    every, lines = _text_words(*_bytes_of(passages), 1, raw=True)
    return every, lines[:, kernels.LINE_WORDS].copy()


def shingle_batch(docs: list[list[str]], k: int, min_words: int) -> Batch:
    """Shingle the cleaned passages of many docs at once (`dedup.kernels.passage_shingles`).

    Passages with fewer than `min_words` words are dropped (headlines, captions);
    `min_words >= k`, so every kept passage has at least one shingle.
    """
    flat = [p for passages in docs for p in passages]
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), [len(d) for d in docs])
    every, counts = word_hashes(flat)
    return _shingled(every, counts, doc_of, len(docs), k, min_words)


def _shingled(
    every: np.ndarray, counts: np.ndarray, doc_of: np.ndarray, n_docs: int, k: int, min_words: int
) -> Batch:
    """The batch of passages of `counts[p]` words each (their hashes one passage after
    the other in `every`), passage p of doc `doc_of[p]`."""
    kept = counts >= min_words
    doc_passages = np.bincount(doc_of[kept], minlength=n_docs).astype(np.int64)
    doc_words = np.bincount(doc_of[kept], weights=counts[kept], minlength=n_docs).astype(np.int64)
    shingles, per_pass, marked = kernels.passage_shingles(every, counts, k, _FOLD, min_words)
    offsets = (np.cumsum(per_pass) - per_pass).astype(np.int64)  # (empty: no passage)
    # Exact duplicates: the same words in the same passages (a passage break flips a bit).
    wbounds = np.concatenate(([0], np.cumsum(doc_words))).tolist()
    hashes = [
        xxhash.xxh64_hexdigest(marked[a:b].data) if b > a else ""  # (its buffer: no copy)
        for a, b in zip(wbounds[:-1], wbounds[1:], strict=True)
    ]
    return Batch(shingles, offsets, doc_passages, hashes)


def sketch_texts(texts: list[str], params: Params) -> Batch:
    """Normalize and shingle many articles' texts: the passages of
    `dedup.normalize.passage_texts`, shingled as by `shingle_batch`, with no Python
    code per line.

    Each text is cleaned whole in Python (`clean_text`: C calls on the whole string);
    one compiled pass over the batch's bytes (`dedup.kernels.text_words`) then cuts
    the lines, strips them, drops repeats and the furniture that needs no regex, cuts
    long lines at sentence ends (a chunk is a run of the line's words: a sentence end
    is no word) and hashes the words of the lines it keeps. The few lines left to
    judge (ending with ")", maybe "... (2)") get `_furniture` and `long_chunks` here.
    """
    max_words = params.max_passage_words
    b, ends = _bytes_of([clean_text(t) for t in texts])
    every, lines = _text_words(b, ends, max_words, raw=False)
    counts = np.ascontiguousarray(lines[:, kernels.LINE_WORDS])
    doc_of = lines[:, kernels.LINE_TEXT]
    check = np.flatnonzero(lines[:, kernels.LINE_CHECK])
    if len(check):
        every, counts, doc_of = _judged(every, lines, check, b, max_words)
    return _shingled(every, counts, doc_of, len(texts), params.shingle_size, params.min_passage_words)


def _judged(
    every: np.ndarray, lines: np.ndarray, check: np.ndarray, b: np.ndarray, max_words: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(word hashes, words per passage, doc of each passage) once the lines `check`
    are judged: dropped as furniture, kept, or cut into chunks."""
    counts = lines[:, kernels.LINE_WORDS]
    first_word = np.cumsum(counts) - counts
    pieces: list[list[int]] = []
    drop = np.zeros(len(every), dtype=bool)
    for i, n, a, z in zip(
        check.tolist(), counts[check].tolist(), lines[check, kernels.LINE_START].tolist(),
        lines[check, kernels.LINE_END].tolist(), strict=True,
    ):  # fmt: skip
        line = b[a:z].tobytes().decode("utf-8", "surrogatepass")
        # (no copyright sign: the pass dropped every line holding one)
        if _furniture(line, False):
            drop[first_word[i] : first_word[i] + n] = True
            pieces.append([])
            continue
        chunks = long_chunks(line, max_words)
        parts = [n] if chunks is None else [len(c) for c in chunks]
        if sum(parts) != n:
            raise AssertionError(f"a line's chunks hold {sum(parts)} words, the line {n}")
        pieces.append(parts)
    per_line = np.ones(len(lines), dtype=np.int64)
    per_line[check] = [len(p) for p in pieces]
    new_counts = np.repeat(counts, per_line)
    at = np.cumsum(per_line) - per_line
    for i, parts in zip(check.tolist(), pieces, strict=True):
        new_counts[at[i] : at[i] + len(parts)] = parts
    return every[~drop], new_counts, np.repeat(lines[:, kernels.LINE_TEXT], per_line)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for this seed."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def passage_signatures(shingles: np.ndarray, offsets: np.ndarray, params: Params) -> np.ndarray:
    """(n_passages, num_perm) uint32 MinHash values, one row per (non-empty) passage."""
    if not len(offsets):
        return np.zeros((0, params.num_perm), dtype=np.uint32)
    a, b = permutations(params.num_perm, params.seed)
    return kernels.passage_minhash(shingles, offsets, a, b)


def lean_minhash(signature: np.ndarray, params: Params) -> LeanMinHash:
    """A passage signature as a datasketch LeanMinHash (for inspection and tests)."""
    m = MinHash(num_perm=params.num_perm, seed=params.seed, hashvalues=signature, scheme="affine32")
    return LeanMinHash(m)


def band_keys(signatures: np.ndarray, params: Params) -> np.ndarray:
    """Signed 64-bit LSH bucket keys, (n_passages, bands).

    With one row per band the key is the band number and the MinHash value side by
    side; with more, the rows are hashed together.
    """
    n = signatures.shape[0]
    sig = signatures.astype(_U64)
    if params.rows == 1:
        band = np.arange(params.bands, dtype=_U64) << _U64(32)
        return (sig[:, : params.bands] | band).view(np.int64)
    keys = np.empty((n, params.bands), dtype=_U64)
    with np.errstate(over="ignore"):
        for band_no in range(params.bands):
            acc = np.full(n, _U64(band_no + 1) * _FOLD[7], dtype=_U64)
            for r in range(params.rows):
                acc = _fmix(acc ^ (sig[:, band_no * params.rows + r] * _FOLD[r % 7]), 64)
            keys[:, band_no] = acc
    return keys.view(np.int64)

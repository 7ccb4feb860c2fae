"""Shingles and MinHash keys for a batch of articles, vectorized with numpy.

The batch's cleaned passages (see `dedup.normalize`) are joined into one UTF-8
buffer and everything after that is array arithmetic, with no Python call per word:

1. Word boundaries from a byte class table (ASCII letters, digits, `_` and every
   non-ASCII byte are word bytes: UTF-8 letters such as "ä" stay inside words).
2. Word hashes by tabulation hashing: the sum of a fixed random 64-bit value per
   (position in word, byte), folded with cumulative sums, then MurmurHash3's
   finalizer (Carter & Wegman's universal hashing, tabulation variant).
3. Word k-gram (shingle) hashes by folding k consecutive word hashes with odd
   multipliers; windows that cross a passage end are dropped. Shingles are 32 bits
   and unique within their passage.
4. One MinHash per passage: datasketch's "affine32" permutations of the finalized
   shingle hash, the minimum taken per passage with `np.minimum.reduceat`. This
   equals `datasketch.MinHash(num_perm, seed, hashfunc=identity)` fed the same
   shingles (a test checks it). With `rows=1` each MinHash value is an LSH key of its
   own: two passages collide in a band with probability equal to their Jaccard
   similarity (Mining of Massive Datasets, ch. 3.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash
from datasketch.minhash import _fmix

from dedup.normalize import passage_texts
from dedup.params import Params

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
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
_MAX_OFFSET = 32  # bytes past this position in a word share the last table row


def _splitmix_table(rows: int, cols: int, seed: int) -> np.ndarray:
    """Deterministic random uint64 table (SplitMix64), the same on every platform."""
    x = (np.arange(rows * cols, dtype=_U64) + _U64(1)) * _U64(0x9E3779B97F4A7C15) + _U64(seed)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return (x ^ (x >> _U64(31))).reshape(rows, cols)


_TABLE = _splitmix_table(_MAX_OFFSET, 256, 0x5EED)
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True
_NEWLINE = ord("\n")


@dataclass
class Doc:
    """One article's shingles, ready for verification."""

    id: str  # articles.id
    text_hash: str  # xxh64 of the normalized words: equal means exact duplicate
    shingles: np.ndarray  # uint32 shingle hashes, passage after passage (unique within one)
    offsets: np.ndarray  # int64 start of each passage in `shingles`

    @property
    def n_passages(self) -> int:
        return len(self.offsets)

    def passage_sizes(self) -> np.ndarray:
        return np.diff(np.append(self.offsets, len(self.shingles)))


@dataclass
class Batch:
    """Shingles of a batch of articles: passages of all docs, one after the other."""

    shingles: np.ndarray  # uint32, passage after passage, unique within a passage
    passage_offsets: np.ndarray  # int64 start of each passage in `shingles`
    doc_passages: np.ndarray  # int64 number of passages of each doc
    text_hashes: list[str]  # per doc: xxh64 of its normalized words ('' when empty)

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
        """The batch cut back into one `Doc` per article (views, no copies)."""
        out = []
        for aid, th, (p0, p1, s0, s1) in zip(ids, self.text_hashes, self.doc_slices(), strict=True):
            out.append(Doc(aid, th, self.shingles[s0:s1], self.passage_offsets[p0:p1] - s0))
        return out


def _word_hashes(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 hash, start byte) of every word in a UTF-8 byte buffer."""
    w = _WORD_BYTE[buf]
    starts_mask = w.copy()
    starts_mask[1:] &= ~w[:-1]
    starts = np.flatnonzero(starts_mask)
    if not len(starts):
        return np.zeros(0, _U64), starts
    idx = np.flatnonzero(w)
    # Word number of every word byte, and its offset inside the word.
    wid = np.cumsum(starts_mask)[idx] - 1
    off = idx - starts[wid]
    np.minimum(off, _MAX_OFFSET - 1, out=off)
    contrib = _TABLE[off, buf[idx]]
    first = np.searchsorted(idx, starts)  # each word's first byte within idx
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(contrib, first)
        return _fmix(sums, 64), starts


def shingle_batch(docs: list[list[str]], k: int, min_words: int) -> Batch:
    """Shingle the cleaned passages of many docs at once.

    Passages with fewer than `min_words` words are dropped (headlines, captions).
    """
    flat = [p for d in docs for p in d]
    pdoc = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    buf = np.frombuffer(("\n".join(flat) + "\n").encode("utf-8"), dtype=np.uint8)
    wh, wstart = _word_hashes(buf)
    newlines = np.flatnonzero(buf == _NEWLINE)
    wpass = np.searchsorted(newlines, wstart)  # passage of each word
    counts = np.bincount(wpass, minlength=len(flat))
    keep_pass = counts >= max(min_words, 1)
    keep_words = keep_pass[wpass]
    wh, wpass = wh[keep_words], wpass[keep_words]
    # Renumber kept passages 0..m-1.
    new_id = np.cumsum(keep_pass) - 1
    wpass = new_id[wpass]
    pdoc = pdoc[keep_pass]
    n_pass = int(keep_pass.sum())
    n = len(wh)
    kk = max(1, k)
    with np.errstate(over="ignore"):
        acc = np.zeros(max(0, n - kk + 1), dtype=_U64)
        for j in range(kk):
            acc += wh[j : n - kk + 1 + j] * _FOLD[j % len(_FOLD)]
        valid = wpass[: len(acc)] == wpass[kk - 1 :] if len(acc) else np.zeros(0, bool)
        sh = (_fmix(acc[valid], 64) >> _U64(32)).astype(_U64)
    spass = wpass[: len(acc)][valid].astype(_U64)
    keyed = np.unique((spass << _U64(32)) | sh)
    shingles = (keyed & _MASK32).astype(np.uint32)
    per_pass = np.bincount((keyed >> _U64(32)).astype(np.int64), minlength=n_pass)
    offsets = np.concatenate(([0], np.cumsum(per_pass)[:-1])).astype(np.int64)
    doc_passages = np.bincount(pdoc, minlength=len(docs)).astype(np.int64)
    # Exact duplicates: the same sequence of words in the same passages.
    wdoc = pdoc[wpass] if n else np.zeros(0, np.int64)
    wbounds = np.searchsorted(wdoc, np.arange(len(docs) + 1))
    pfirst = np.searchsorted(wpass, np.arange(n_pass))
    marks = np.zeros(n, dtype=_U64)
    marks[pfirst[pfirst < n]] = _U64(1)  # passage breaks are part of the text
    sig = wh ^ marks
    hashes = []
    for d in range(len(docs)):
        a, b = int(wbounds[d]), int(wbounds[d + 1])
        hashes.append(xxhash.xxh64_hexdigest(sig[a:b].tobytes()) if b > a else "")
    return Batch(shingles, offsets, doc_passages, hashes)


def sketch_texts(texts: list[str], params: Params) -> Batch:
    """Normalize and shingle many articles' texts."""
    docs = [passage_texts(t, max_words=params.max_passage_words) for t in texts]
    return shingle_batch(docs, params.shingle_size, params.min_passage_words)


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
    with np.errstate(over="ignore"):
        hv = _fmix(shingles.reshape(-1, 1), 32)
        phv = hv * a + b  # wraps mod 2^32: the affine32 permutation
    return np.minimum.reduceat(phv, offsets, axis=0)


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

"""Shingles and MinHash signatures, vectorized with numpy.

A document becomes one array of 32-bit shingle hashes (word n-grams, taken inside
each passage) plus the offsets where each passage starts. Each passage gets its own
MinHash: the index works on passages so that a page quoting one paragraph of a story
(a ticker) still meets it, which a whole-document sketch would miss.

The MinHash is datasketch's "affine32" scheme (MurmurHash3 finalizer, then
h -> a*h + b mod 2^32 with datasketch's permutations for the seed), computed for all
passages of a batch at once: it equals `datasketch.MinHash(num_perm, seed,
hashfunc=...)` fed the same hashes, without one Python call per token.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash
from datasketch.minhash import _fmix

from dedup.normalize import passages
from dedup.params import Params

_U64 = np.uint64
# Odd multipliers to fold n token hashes into one shingle hash (mod 2^64).
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


@dataclass
class Doc:
    """One article, ready for the index."""

    id: str  # articles.id
    text_hash: str  # xxh64 of the normalized passages: equal means exact duplicate
    shingles: np.ndarray  # uint32 shingle hashes, passage after passage (unique within one)
    offsets: np.ndarray  # int64 start of each passage in `shingles`

    @property
    def n_passages(self) -> int:
        return len(self.offsets)

    def passage_sizes(self) -> np.ndarray:
        return np.diff(np.append(self.offsets, len(self.shingles)))


@lru_cache(maxsize=500_000)
def _word_hash(word: str) -> int:
    return xxhash.xxh3_64_intdigest(word.encode("utf-8"))


def _mix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, so folded sums spread over all bits."""
    return _fmix(x, 64)


def shingle_passages(parts: list[list[str]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique 32-bit word k-gram hashes of each passage, concatenated, and passage offsets.

    All passages are folded in one vectorized pass; windows that would cross a
    passage boundary are dropped (a passage shorter than k gives one shingle).
    """
    if not parts:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    words = [w for p in parts for w in p]
    th = np.fromiter((_word_hash(w) for w in words), dtype=_U64, count=len(words))
    lens = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    kk = np.minimum(lens, k)  # per passage window length
    n = len(th)
    with np.errstate(over="ignore"):
        acc = np.zeros(n, dtype=_U64)
        for j in range(k):
            shifted = np.zeros(n, dtype=_U64)
            shifted[: n - j] = th[j:]
            acc += shifted * _FOLD[j % len(_FOLD)]
        # Short passages (< k words) fold only their own words: recompute them alone.
        for pi in np.nonzero(lens < k)[0]:
            s0, m = int(starts[pi]), int(lens[pi])
            acc[s0] = sum(int(th[s0 + j]) * int(_FOLD[j % len(_FOLD)]) for j in range(m)) % (
                1 << 64
            )
        pid = np.repeat(np.arange(len(parts), dtype=np.int64), lens)
        pos = np.arange(n, dtype=np.int64) - starts[pid]
        valid = pos <= (lens - kk)[pid]
        h = (_mix64(acc[valid]) >> _U64(32)).astype(_U64)
    keyed = np.unique((pid[valid].astype(_U64) << _U64(32)) | h)
    shingles = (keyed & _U64(0xFFFFFFFF)).astype(np.uint32)
    counts = np.bincount((keyed >> _U64(32)).astype(np.int64), minlength=len(parts))
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return shingles, offsets


def make_doc(article_id: str, text: str, params: Params) -> Doc:
    """Normalize and shingle one article's text."""
    parts = passages(text, min_words=params.min_passage_words, max_words=params.max_passage_words)
    shingles, offsets = shingle_passages(parts, params.shingle_size)
    norm = "\n".join(" ".join(p) for p in parts)
    return Doc(article_id, xxhash.xxh64_hexdigest(norm.encode("utf-8")), shingles, offsets)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for this seed."""
    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def passage_signatures(doc: Doc, params: Params) -> np.ndarray:
    """(n_passages, num_perm) uint32 MinHash values, one row per passage."""
    if not doc.n_passages:
        return np.zeros((0, params.num_perm), dtype=np.uint32)
    # reduceat cannot express an empty passage; every passage has >= 1 shingle.
    a, b = permutations(params.num_perm, params.seed)
    with np.errstate(over="ignore"):
        hv = _fmix(doc.shingles.reshape(-1, 1), 32)
        phv = hv * a + b  # wraps mod 2^32: the affine32 permutation
    return np.minimum.reduceat(phv, doc.offsets, axis=0)


def lean_minhash(signature: np.ndarray, params: Params) -> LeanMinHash:
    """A passage signature as a datasketch LeanMinHash (for inspection and tests)."""
    m = MinHash(num_perm=params.num_perm, seed=params.seed, hashvalues=signature, scheme="affine32")
    return LeanMinHash(m)


def band_keys(signatures: np.ndarray, params: Params) -> np.ndarray:
    """Signed 64-bit LSH bucket keys, (n_passages, bands): band number and rows hashed together."""
    n = signatures.shape[0]
    keys = np.empty((n, params.bands), dtype=_U64)
    sig = signatures.astype(_U64)
    with np.errstate(over="ignore"):
        for band in range(params.bands):
            acc = np.full(n, _U64(band + 1) * _FOLD[7], dtype=_U64)
            for r in range(params.rows):
                acc = _mix64(acc ^ (sig[:, band * params.rows + r] * _FOLD[r % 7]))
            keys[:, band] = acc
    return keys.view(np.int64)

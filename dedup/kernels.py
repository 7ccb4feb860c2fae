"""The inner loops of dedup, compiled with numba, where numpy would make several passes
over memory or Python would run per pair: word hashing over the bytes of a batch,
shingles and MinHash values per passage, per-pair shared shingles (verification),
bucket lookups in the LSH segments, per-cluster member statistics, and a radix sort.

Each kernel has a plain reference its tests compare it with: `dedup.sketch.word_hash`
and `shingle_hash`, datasketch's MinHash, `dedup.verify.verify`, `np.searchsorted`,
`np.sort`, and Python set arithmetic. Compiled code is cached next to this file (`cache=True`; numba
falls back to a cache in the user's home where that is not writable), so only the first
run after an install pays for compiling, about 10 s.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _slots(n: int) -> int:
    """Slots of an open-addressing table for up to n values: the least power of two
    >= 2n (at most half full, so a probe ends soon; a power, so `& (slots - 1)` indexes)."""
    size = 1
    while size < 2 * n:
        size *= 2
    return size


@njit(cache=True, nogil=True)
def pair_hits(
    shingles: np.ndarray, start: np.ndarray, n_pass: np.ndarray, pass_start: np.ndarray,
    sizes: np.ndarray, sets: np.ndarray, set_start: np.ndarray, set_len: np.ndarray,
    pa: np.ndarray, pb: np.ndarray, first_a: np.ndarray, first_b: np.ndarray,
    limit: float, counts_a: np.ndarray, counts_b: np.ndarray, matched: np.ndarray,
) -> None:  # fmt: skip
    """For pair k of articles pa[k], pb[k]: how many shingles of each passage of one
    are in the other's set, into counts_a[first_a[k] + passage] (and _b); matched[k]
    when a passage of either side has at least `limit` of its shingles found.

    Article d's shingles are shingles[start[d]:], passage after passage (n_pass[d]
    passages of sizes[pass_start[d]:] shingles); its sorted unique shingles are
    sets[set_start[d]:][:set_len[d]]. The two sets are merged once; the values they
    share go into a small open-addressing hash table (shingles are hash values, so
    their low bits index it), which every shingle of both articles then looks up.
    """
    cap = 1
    for d in range(len(set_len)):
        cap = max(cap, set_len[d])
    size = _slots(cap)
    mask = size - 1
    table = np.zeros(size, dtype=np.uint32)
    stamp = np.zeros(size, dtype=np.int64)  # == k + 1: the slot holds a value of pair k
    for k in range(len(pa)):
        a, b = pa[k], pb[k]
        i, a1 = set_start[a], set_start[a] + set_len[a]
        j, b1 = set_start[b], set_start[b] + set_len[b]
        shared = 0
        while i < a1 and j < b1:
            x, y = sets[i], sets[j]
            if x == y:
                slot = x & mask
                while stamp[slot] == k + 1:
                    slot = (slot + 1) & mask
                table[slot] = x
                stamp[slot] = k + 1
                shared += 1
            i += x <= y
            j += y <= x
        if shared == 0:
            continue
        ok = False
        for side in range(2):
            d = a if side == 0 else b
            out = counts_a if side == 0 else counts_b
            o = first_a[k] if side == 0 else first_b[k]
            t = start[d]
            p0 = pass_start[d]
            for p in range(n_pass[d]):
                n = sizes[p0 + p]
                c = 0
                for u in range(t, t + n):
                    x = shingles[u]
                    slot = x & mask
                    while stamp[slot] == k + 1:
                        if table[slot] == x:
                            c += 1
                            break
                        slot = (slot + 1) & mask
                t += n
                out[o + p] = c
                if c >= limit * n:
                    ok = True
        matched[k] = ok


_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


@njit(cache=True, nogil=True)
def fmix64(h: np.uint64) -> np.uint64:
    """MurmurHash3's 64-bit finalizer (datasketch's `_fmix(.., 64)`) on one value."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    return h ^ (h >> _S33)


@njit(cache=True, nogil=True)
def word_hashes(
    b: np.ndarray, byte_separator: np.ndarray, wide_separator: np.ndarray,
    base: np.uint64, length_mul: np.uint64, n_passages: int,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(hash of every word, words of each passage) of UTF-8 bytes `b` holding
    `n_passages` passages ended by NUL: see `dedup.sketch.word_hashes` for which bytes
    are words and the hash.

    The bytes `byte_separator` marks separate words (NUL also ends a passage); so does
    every character `wide_separator` marks by code point, decoded at the lead bytes of
    two- and three-byte characters. Everything else is a word byte: h = h * base +
    byte over the word's bytes (mod 2^64), then h ^ (bytes * length_mul), finalized
    by fmix64.
    """
    n = len(b)
    hashes = np.empty(n // 2 + 1, dtype=np.uint64)
    counts = np.zeros(n_passages, dtype=np.int64)
    words = 0
    h = np.uint64(0)
    size = 0
    p = 0
    i = 0
    while i < n:
        c = b[i]
        if c < 0x80:
            if not byte_separator[c]:  # most bytes: an ASCII letter or digit
                h = h * base + np.uint64(c)
                size += 1
                i += 1
                continue
            sep = True
            step = 1
        elif 0xC2 <= c < 0xF0:  # lead byte of a two- or three-byte character
            if c < 0xE0:
                cp = (np.int64(c) & 0x1F) << 6 | (np.int64(b[i + 1]) & 0x3F)
                step = 2
            else:
                cp = (
                    (np.int64(c) & 0x0F) << 12
                    | (np.int64(b[i + 1]) & 0x3F) << 6
                    | (np.int64(b[i + 2]) & 0x3F)
                )
                step = 3
            sep = wide_separator[cp]
        else:  # a continuation byte or the lead byte of a four-byte character
            sep = False
            step = 1
        if sep:
            if size:
                hashes[words] = fmix64(h ^ (np.uint64(size) * length_mul))
                counts[p] += 1
                words += 1
                h = np.uint64(0)
                size = 0
            if c == 0:
                p += 1
            i += step
            continue
        for j in range(i, i + step):
            h = h * base + np.uint64(b[j])
        size += step
        i += step
    if size:
        hashes[words] = fmix64(h ^ (np.uint64(size) * length_mul))
        counts[p] += 1
        words += 1
    return hashes[:words], counts


@njit(cache=True, nogil=True)
def member_stats(
    sets: np.ndarray, extra: np.ndarray, set_start: np.ndarray, set_len: np.ndarray,
    comp_start: np.ndarray, rep: np.ndarray, shared: np.ndarray, inter: np.ndarray,
) -> None:  # fmt: skip
    """Per member of each cluster: how many of its (unique) shingles another member
    also holds (`shared`), and how many the representative holds (`inter`).

    Members are numbered cluster after cluster: cluster c is members comp_start[c] to
    comp_start[c + 1] - 1, its representative is member rep[c], and member m's sorted
    unique shingles are sets[set_start[m]:][:set_len[m]], or, where set_start[m] is
    len(sets) or more, extra[set_start[m] - len(sets):][:set_len[m]]
    (`dedup.sketch.stretches`). Each cluster's shingles go into an open-addressing
    hash table with a count of holders and whether the representative is one of them;
    a second pass over the members reads both.
    """
    n_sets = len(sets)
    biggest = 1
    for c in range(len(comp_start) - 1):
        total = 0
        for m in range(comp_start[c], comp_start[c + 1]):
            total += set_len[m]
        biggest = max(biggest, total)
    size = _slots(biggest)
    keys = np.zeros(size, dtype=np.uint32)
    count = np.zeros(size, dtype=np.int32)
    with_rep = np.zeros(size, dtype=np.bool_)
    stamp = np.zeros(size, dtype=np.int64)  # == c + 1: the slot holds a shingle of cluster c
    for c in range(len(comp_start) - 1):
        total = 0
        for m in range(comp_start[c], comp_start[c + 1]):
            total += set_len[m]
        mask = _slots(total) - 1  # a table just big enough: small clusters stay in the cache
        r = rep[c]
        for m in range(comp_start[c], comp_start[c + 1]):
            values, s0 = (sets, set_start[m]) if set_start[m] < n_sets else (extra, set_start[m] - n_sets)
            for t in range(s0, s0 + set_len[m]):
                x = values[t]
                slot = x & mask
                while stamp[slot] == c + 1 and keys[slot] != x:
                    slot = (slot + 1) & mask
                if stamp[slot] != c + 1:
                    stamp[slot] = c + 1
                    keys[slot] = x
                    count[slot] = 0
                    with_rep[slot] = False
                count[slot] += 1
                if m == r:
                    with_rep[slot] = True
        for m in range(comp_start[c], comp_start[c + 1]):
            s = 0
            i = 0
            values, s0 = (sets, set_start[m]) if set_start[m] < n_sets else (extra, set_start[m] - n_sets)
            for t in range(s0, s0 + set_len[m]):
                x = values[t]
                slot = x & mask
                while keys[slot] != x:
                    slot = (slot + 1) & mask
                s += count[slot] >= 2
                i += with_rep[slot]
            shared[m] = s
            inter[m] = i


@njit(cache=True, nogil=True)
def _gallop(keys: np.ndarray, at: int, n: int, x: np.int64, right: bool) -> int:
    """The first position in at..n whose key is >= x (> x when `right`), in sorted
    `keys[:n]` (n if none): steps of 1, 2, 4, ... from `at`, then a binary search
    within the last step."""
    base = at
    step = 1
    while base + step - 1 < n and (keys[base + step - 1] <= x if right else keys[base + step - 1] < x):
        base += step
        step *= 2
    end = min(base + step - 1, n)
    while base < end:
        mid = (base + end) >> 1
        if keys[mid] <= x if right else keys[mid] < x:
            base = mid + 1
        else:
            end = mid
    return base


@njit(cache=True, nogil=True)
def ranges(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of the sorted `queries`: where its run of equal entries in the sorted
    `keys` starts and ends, as `np.searchsorted(keys, queries, "left")` and `"right"`.

    Each search gallops forward from where the previous one started, so sorted queries
    cost about log2(len(keys) / len(queries)) steps each and stay in the cache,
    instead of log2(len(keys)) steps that miss it.
    """
    lo = np.empty(len(queries), dtype=np.int64)
    hi = np.empty(len(queries), dtype=np.int64)
    at = 0
    for q in range(len(queries)):
        x = queries[q]
        if q and x < queries[q - 1]:
            at = 0  # not sorted after all: start over
        at = lo[q] = _gallop(keys, at, len(keys), x, False)
        hi[q] = _gallop(keys, at, len(keys), x, True)
    return lo, hi


@njit(cache=True, nogil=True)
def banded_ranges(
    low: np.ndarray, band_at: np.ndarray, queries: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`ranges` over keys held as bands (`dedup.lsh.Segment`): key (b << 32) | v is v
    in low[band_at[b]:band_at[b + 1]], whose values are sorted; a query outside every
    band finds nothing (lo = hi)."""
    lo = np.empty(len(queries), dtype=np.int64)
    hi = np.empty(len(queries), dtype=np.int64)
    bands = len(band_at) - 1
    at = 0
    band = -1
    for q in range(len(queries)):
        x = queries[q]
        b = x >> 32
        if b < 0 or b >= bands:
            lo[q] = hi[q] = 0
            continue
        if b != band or x < queries[q - 1]:
            band = b
            at = band_at[b]  # (a new band, or not sorted after all: start over)
        v = x & 0xFFFFFFFF
        end = band_at[b + 1]
        at = lo[q] = _gallop(low, at, end, v, False)
        hi[q] = _gallop(low, at, end, v, True)
    return lo, hi


@njit(cache=True, nogil=True)
def long_runs(x: np.ndarray, least: int) -> np.ndarray:
    """The values of the sorted `x` that occur at least `least` times, each once,
    ascending (as `dedup.lsh.runs` then a filter, in one pass and without its arrays
    of every distinct value: a segment of the index holds tens of millions)."""
    n = len(x)
    out = np.empty(n // max(least, 1) + 1, dtype=x.dtype)
    k = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and x[j] == x[i]:
            j += 1
        if j - i >= least:
            out[k] = x[i]
            k += 1
        i = j
    return out[:k].copy()


@njit(cache=True, nogil=True)
def passage_shingles(
    words: np.ndarray, lens: np.ndarray, k: int, fold: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(unique shingles of each passage in the order they first occur, one passage
    after the other; how many each passage has), from the word hashes of passages of
    lens[p] >= k words.

    A shingle is k consecutive words: fmix64(sum of word j * fold[j % len(fold)])
    (mod 2^64), its top 32 bits (see `dedup.sketch.shingle_hash`). Repeats are dropped
    with a small open-addressing table (a shingle's low bits index it), in one pass:
    no reader needs a passage sorted (MinHash takes minima, verification looks each
    shingle up, an article's set is sorted on its own), and sorting a passage's few
    dozen shingles by insertion cost twice as much as making them.
    """
    total = 0
    longest = 0
    for p in range(len(lens)):
        total += lens[p] - k + 1
        longest = max(longest, lens[p])
    out = np.empty(total, dtype=np.uint32)
    counts = np.zeros(len(lens), dtype=np.int64)
    size = _slots(longest)
    mask = size - 1
    table = np.zeros(size, dtype=np.uint32)
    stamp = np.zeros(size, dtype=np.int64)  # == p + 1: the slot holds a shingle of passage p
    mul = np.empty(k, dtype=np.uint64)  # (a division per word would cost a third)
    for j in range(k):
        mul[j] = fold[j % len(fold)]
    start = 0
    o = 0
    for p in range(len(lens)):
        m = lens[p] - k + 1
        n = 0
        for i in range(m):
            acc = np.uint64(0)
            for j in range(k):
                acc += words[start + i + j] * mul[j]
            v = np.uint32(fmix64(acc) >> np.uint64(32))
            slot = v & mask
            while stamp[slot] == p + 1 and table[slot] != v:
                slot = (slot + 1) & mask
            if stamp[slot] != p + 1:
                stamp[slot] = p + 1
                table[slot] = v
                out[o + n] = v
                n += 1
        counts[p] = n
        o += n
        start += lens[p]
    return out[:o], counts


_MASK32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, nogil=True)
def passage_minhash(
    shingles: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """(passages, len(a)) MinHash values: per passage (shingles[offsets[p]:offsets[p+1]],
    non-empty) the minimum of (a * fmix32(shingle) + b) mod 2^32 for each (a, b), as
    datasketch's affine32 scheme computes them (see `dedup.sketch.passage_signatures`)."""
    n_pass = len(offsets)
    perms = len(a)
    out = np.empty((n_pass, perms), dtype=np.uint32)
    mins = np.empty(perms, dtype=np.uint64)
    for p in range(n_pass):
        s0 = offsets[p]
        s1 = offsets[p + 1] if p + 1 < n_pass else len(shingles)
        for r in range(perms):
            mins[r] = _MASK32
        for t in range(s0, s1):
            h = np.uint64(shingles[t])
            h ^= h >> np.uint64(16)
            h = (h * np.uint64(0x85EBCA6B)) & _MASK32
            h ^= h >> np.uint64(13)
            h = (h * np.uint64(0xC2B2AE35)) & _MASK32
            h ^= h >> np.uint64(16)
            for r in range(perms):
                v = (h * np.uint64(a[r]) + np.uint64(b[r])) & _MASK32
                if v < mins[r]:
                    mins[r] = v
        for r in range(perms):
            out[p, r] = np.uint32(mins[r])
    return out


@njit(cache=True, nogil=True)
def segment_unique(
    values: np.ndarray, starts: np.ndarray, lens: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each segment values[starts[i] : starts[i] + lens[i]] sorted and its repeats
    dropped, written at the same start of a new array; returns it and the new lengths
    (what `dedup.sketch.unique` gives per segment, for a whole batch in one call)."""
    out = np.empty_like(values)
    new_lens = np.zeros(len(lens), dtype=np.int64)
    scratch = np.empty(_RADIX_FROM, dtype=values.dtype)
    for i in range(len(lens)):
        s0 = starts[i]
        m = lens[i]
        if m == 0:
            continue
        new_lens[i] = _sorted_unique_into(values[s0 : s0 + m], out, s0, scratch)
    return out, new_lens


@njit(cache=True, nogil=True)
def _sorted_unique_into(x: np.ndarray, out: np.ndarray, at: int, scratch: np.ndarray) -> int:
    """x (uint32) sorted, its repeats dropped, written to out[at:]; returns how many.

    Fewer than `_RADIX_FROM` values (a passage's few dozen) are sorted by insertion in
    `scratch` (room for that many): no array is made, twice as fast as `np.sort`; more
    (an article's few hundred) by radix."""
    m = len(x)
    if m < _RADIX_FROM:
        s = scratch[:m]
        s[:] = x
        for j in range(1, m):
            v = s[j]
            i = j - 1
            while i >= 0 and s[i] > v:
                s[i + 1] = s[i]
                i -= 1
            s[i + 1] = v
    else:
        s = radix_sort(x, 8)
    n = 0
    for j in range(m):
        if j == 0 or s[j] != s[j - 1]:
            out[at + n] = s[j]
            n += 1
    return n


# From this length on an article's shingles sort faster by radix (four passes of one
# byte each: a third of the time of `np.sort` at the ~300 shingles of an article); a
# short article's few dozen sort faster by insertion.
_RADIX_FROM = 64


@njit(cache=True, nogil=True)
def radix_sort(x: np.ndarray, bits: int, low: int = 0) -> np.ndarray:
    """Non-negative integers sorted, as `np.sort` would: least significant digit first,
    `bits` bits a pass (each a stable counting sort), only as many passes as the largest
    value needs. 8 bits suit a few hundred values (an article's shingles: a third of
    `np.sort`'s time), 11 bits millions (LSH entries, candidate pairs: half of it).

    With `low`, the passes start at that bit: the values are sorted by the bits above
    it, and keep their order where those are equal (for values whose low bits are
    in order already)."""
    n = len(x)
    src = x.copy()
    if n < 2:
        return src
    top = np.int64(src.max())
    dst = np.empty_like(src)
    mask = (1 << bits) - 1
    count = np.empty(mask + 2, dtype=np.int64)
    shift = low
    while shift < 63 and top >> shift:  # (a shift by 64 or more is undefined)
        count[:] = 0
        for j in range(n):
            count[((np.int64(src[j]) >> shift) & mask) + 1] += 1
        for k in range(mask + 1):
            count[k + 1] += count[k]
        for j in range(n):
            d = (np.int64(src[j]) >> shift) & mask
            dst[count[d]] = src[j]
            count[d] += 1
        src, dst = dst, src
        shift += bits
    return src


@njit(cache=True, nogil=True)
def segment_entries(keys: np.ndarray, docnos: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """LSH entries (key, docno) sorted by key, then docno, repeats dropped (what
    `dedup.lsh.make_segment` makes: keys >= 0 and docnos < 2**bits, in 63 bits
    together). Each entry is packed into one int64 and radix-sorted (11 bits a pass).
    Where the docnos come in ascending order (a window's articles, passage after
    passage) the sort need only order the keys: the passes start above the docno's
    bits, and a stable sort keeps each key's docnos in order (at 100k articles, 35
    bits of 52 to sort: four passes instead of five)."""
    n = len(keys)
    packed = np.empty(n, dtype=np.int64)
    in_order = True
    for i in range(n):
        packed[i] = (keys[i] << bits) | np.int64(docnos[i])
        if i and docnos[i] < docnos[i - 1]:
            in_order = False
    s = radix_sort(packed, 11, bits if in_order else 0)
    low = (np.int64(1) << bits) - 1
    out_k = np.empty(n, dtype=np.int64)
    out_d = np.empty(n, dtype=np.int32)
    m = 0
    for j in range(n):
        if j == 0 or s[j] != s[j - 1]:
            out_k[m] = s[j] >> bits
            out_d[m] = np.int32(s[j] & low)
            m += 1
    if m < n:  # (a segment is kept: not in arrays with room for the repeats)
        return out_k[:m].copy(), out_d[:m].copy()
    return out_k, out_d

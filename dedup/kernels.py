"""The inner loops of dedup, compiled with numba, where numpy would make several passes
over memory or Python would run per line or pair: lines, furniture and word hashing
over the bytes of a batch, shingles and MinHash values per passage, per-pair shared
shingles (verification) and their JSON, bucket lookups in the LSH segments, per-cluster
member statistics, and a radix sort. (The clustering rules have their own module,
`dedup.rule_kernels`.)

Each kernel has a plain reference its tests compare it with: `dedup.normalize.
passage_texts`, `dedup.sketch.word_hash` and `shingle_hash`, datasketch's MinHash,
`dedup.verify.verify`, `json.dumps`, `np.searchsorted`, `np.sort`, and Python set
arithmetic.
Compiled code is cached next to this file (`cache=True`; numba falls back to a cache in
the user's home where that is not writable), so only the first run after an install
pays for compiling, about 10 s.
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


@njit(cache=True, nogil=True, inline="always")
def _probe(keys: np.ndarray, stamp: np.ndarray, tag: int, x: np.uint32, mask: int) -> np.uint32:
    """The slot of x in an open-addressing table whose slots in use carry `stamp` ==
    `tag` (a table never cleared: each round takes a new tag): where x is, or the free
    slot where it goes (x's low bits first, then the next slots)."""
    slot = x & mask
    while stamp[slot] == tag and keys[slot] != x:
        slot = (slot + 1) & mask
    return slot


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


# Character classes of `text_words` (by code point, below U+10000).
BREAK = 1  # ends a line (`str.splitlines`)
SPACE = 2  # whitespace (`str.isspace`, what `str.strip` drops)
SEP = 4  # separates words (`dedup.normalize.words`)
# Sentence ends `text_words` notes per line (more: the line is left to Python).
_MAX_ENDS = 4096
# A kept line's columns in what `text_words` returns.
LINE_WORDS, LINE_TEXT, LINE_START, LINE_END, LINE_CHECK = range(5)


@njit(cache=True, nogil=True, inline="always")  # (a call per character would cost more than the rest)
def _char(b: np.ndarray, i: int, char_class: np.ndarray) -> tuple[np.int64, int, np.int64]:
    """(code point, bytes, class) of the UTF-8 character at b[i]; a byte that starts no
    character of three bytes or fewer (a continuation byte, the lead of a four-byte
    one) is taken alone, of class 0, as a part of a word."""
    c = np.int64(b[i])
    if c < 0x80:
        return c, 1, np.int64(char_class[c])
    if 0xC2 <= c < 0xE0:
        cp = (c & 0x1F) << 6 | (np.int64(b[i + 1]) & 0x3F)
        return cp, 2, np.int64(char_class[cp])
    if 0xE0 <= c < 0xF0:
        cp = (c & 0x0F) << 12 | (np.int64(b[i + 1]) & 0x3F) << 6 | (np.int64(b[i + 2]) & 0x3F)
        return cp, 3, np.int64(char_class[cp])
    return np.int64(-1), 1, np.int64(0)


@njit(cache=True, nogil=True)
def _same(b: np.ndarray, s1: int, e1: int, s2: int, e2: int) -> bool:
    if e1 - s1 != e2 - s2:
        return False
    for j in range(e1 - s1):
        if b[s1 + j] != b[s2 + j]:
            return False
    return True


@njit(cache=True, nogil=True)
def _line_key(b: np.ndarray, s: int, e: int, words: np.uint64) -> np.uint64:
    """A hash of a line for finding repeats: its length, up to 8 bytes at each end and
    `words`, a hash of its words' hashes (so lines that differ in their words differ
    here: equal keys are compared byte by byte)."""
    h = (np.uint64(e - s) * _M1) ^ words
    for j in range(s, min(e, s + 8)):
        h = h * _M2 + np.uint64(b[j])
    for j in range(max(s, e - 8), e):
        h = h * _M2 + np.uint64(b[j])
    return fmix64(h)


@njit(cache=True, nogil=True)
def _holds(b: np.ndarray, i: int, e: int, pat: np.ndarray, a: int, z: int) -> bool:
    """Whether b[i:e] starts with the bytes pat[a:z]."""
    if z - a > e - i:
        return False
    for q in range(a, z):
        if b[i + q - a] != pat[q]:
            return False
    return True


@njit(cache=True, nogil=True)
def _ends_with_any(b: np.ndarray, s: int, e: int, tails: np.ndarray, tail_end: np.ndarray) -> bool:
    """Whether b[s:e] ends with one of the byte strings tails[tail_end[k-1]:tail_end[k]]."""
    a = 0
    for z in tail_end:
        if z - a <= e - s and _holds(b, e - (z - a), e, tails, a, z):
            return True
        a = z
    return False


@njit(cache=True, nogil=True)
def _credit_line(
    b: np.ndarray, s: int, e: int, labels: np.ndarray, label_end: np.ndarray,
    phrase: np.ndarray, char_class: np.ndarray,
) -> bool:  # fmt: skip
    """`dedup.normalize.CREDIT_LINE.match` on the line b[s:e]: at its start, the
    phrase, or one of the labels (labels[label_end[k-1]:label_end[k]]) followed by any
    whitespace and ":"."""
    if _holds(b, s, e, phrase, 0, len(phrase)):
        return True
    a = 0
    for z in label_end:
        if _holds(b, s, e, labels, a, z):
            j = s + z - a
            while j < e:
                _, step, cls = _char(b, j, char_class)
                if not cls & SPACE:
                    break
                j += step
            if j < e and b[j] == 0x3A:  # ":"
                return True
        a = z
    return False


@njit(cache=True, nogil=True)
def _row(lines: np.ndarray, k: int, n_words: int, t: int, start: int, end: int, check: int) -> np.ndarray:
    """Row k of `text_words`'s lines (the array, twice as long if it was full)."""
    if k == len(lines):
        grown = np.empty((2 * k, lines.shape[1]), dtype=lines.dtype)
        grown[:k] = lines
        lines = grown
    lines[k, LINE_WORDS] = n_words
    lines[k, LINE_TEXT] = t
    lines[k, LINE_START] = start
    lines[k, LINE_END] = end
    lines[k, LINE_CHECK] = check
    return lines


@njit(cache=True, nogil=True)
def _chunk_sizes(ends: np.ndarray, n_words: int, max_words: int) -> list[int]:
    """Words per chunk of a line of `n_words` words with sentence ends after ends[j]
    words, as `dedup.normalize._chunks` cuts it: sentence after sentence, a chunk
    closed once it holds max_words // 2 (at least 1), a last one under half of that
    joined to the one before."""
    target = max(1, max_words // 2)
    out = [0 for _ in range(0)]
    current = 0
    at = 0
    for j in range(len(ends) + 1):
        end = ends[j] if j < len(ends) else n_words
        current += end - at
        at = end
        if current >= target:
            out.append(current)
            current = 0
    if current:
        if len(out) and current < target // 2:
            out[-1] += current
        else:
            out.append(current)
    return out


@njit(cache=True, nogil=True)
def text_words(
    b: np.ndarray, text_end: np.ndarray, char_class: np.ndarray, base: np.uint64,
    length_mul: np.uint64, labels: np.ndarray, label_end: np.ndarray, phrase: np.ndarray,
    tails: np.ndarray, tail_end: np.ndarray, max_words: int, raw: bool,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The words of cleaned texts, hashed, line by line, in one pass over their UTF-8
    bytes (text t is b[text_end[t-1]:text_end[t]]): see `dedup.sketch.sketch_texts` for
    the rules, which are those of `dedup.normalize.passage_texts`.

    Returns (hash of every word of the kept lines, one line after another; one row per
    kept line: LINE_WORDS its words, LINE_TEXT its text, LINE_START and LINE_END its
    bytes once stripped, LINE_CHECK 1 if a rule in Python must still judge it).

    A line ends at a BREAK character and is stripped of SPACE ones; an empty one, one
    seen before in its text, a credit line (`_credit_line`), one holding "©" or "(c) ",
    and one ending with one of `tails` (a teaser cut short) are dropped. One ending
    with ")" (maybe "... (2)", a cut teaser too) is kept with LINE_CHECK set. One of
    over `max_words` words, as many spaces and twice as many characters is cut at
    its sentence ends into chunks (`_chunk_sizes`), a row each. With `raw`, each text
    is one line, and every rule is off.

    A word is a run of characters not of class SEP; its hash: h = h * base + byte
    over its bytes (mod 2^64), then fmix64(h ^ (bytes * length_mul)).
    """
    n = len(b)
    # (a text of m bytes has at most (m + 1) // 2 words)
    hashes = np.empty(n // 2 + len(text_end) + 1, dtype=np.uint64)
    lines = np.empty((64 + len(text_end), 5), dtype=np.int64)
    kept = 0
    words = 0
    # Lines seen in the current text (for repeats): an open-addressing table of their
    # numbers in seen_start / seen_end / seen_key, a slot in use when its stamp is t + 1.
    size = 64
    table = np.zeros(size, dtype=np.int64)
    stamp = np.zeros(size, dtype=np.int64)
    seen_start = np.empty(size // 2, dtype=np.int64)
    seen_end = np.empty(size // 2, dtype=np.int64)
    seen_key = np.empty(size // 2, dtype=np.uint64)
    # Sentence ends of the current line (whitespace after ".", "!" or "?": SENTENCE_END):
    # the line's words before each, and where it is (its byte).
    # (never grown inside the loop over bytes, where reassigning an array costs a
    # reference count per byte: a line of more ends is judged in Python)
    ends = np.empty((_MAX_ENDS, 2), dtype=np.int64)
    s = 0
    for t in range(len(text_end)):
        e = text_end[t]
        seen = 0
        i = s
        while True:  # one line per turn
            line_words = words
            # The stripped line is [first, last); `wide` counts the bytes past the first
            # of each character (characters = bytes - wide), `spaces` the " " seen, and
            # the *_wide / *_space copies hold them where the stripped line starts and
            # ends. `last` is set at the next whitespace (or the line's end) when the
            # character before it was not whitespace: a word's (`size_w` > 0) or another
            # (`solid`), so that a byte of a word costs nothing here.
            first = -1
            last = -1
            wide = 0
            spaces = 0
            first_wide = first_space = last_wide = last_space = 0
            solid = False  # the last character not of a word was not whitespace
            c_at = -1  # the first "(c) " (at its ")")
            mark = False  # "©"
            n_ends = 0
            line_key = np.uint64(0)  # (see `_line_key`)
            h = np.uint64(0)
            size_w = 0
            step = 1
            slot = np.int64(0)
            while i < e:
                c = b[i]
                if c < 0x80 and char_class[c] == 0:  # most bytes: an ASCII letter or digit
                    h = h * base + np.uint64(c)
                    size_w += 1
                    if first < 0:
                        first, first_wide, first_space = i, wide, spaces
                    i += 1
                    continue
                if c < 0x80:
                    cp, step, cls = np.int64(c), 1, np.int64(char_class[c])  # (ASCII at once)
                elif 0xC2 <= c < 0xE0 and not char_class[(c & 0x1F) << 6 | (b[i + 1] & 0x3F)]:
                    # a letter of two bytes ("ä", "é"): part of a word, like an ASCII one
                    h = (h * base + np.uint64(c)) * base + np.uint64(b[i + 1])
                    size_w += 2
                    if first < 0:
                        first, first_wide, first_space = i, wide, spaces
                    wide += 1
                    i += 2
                    continue
                else:
                    cp, step, cls = _char(b, i, char_class)
                if cls & BREAK and not raw:
                    break
                if cls & SPACE:
                    if size_w or solid:  # a character that is not whitespace ended at i
                        last, last_wide, last_space = i, wide, spaces
                        if i > s and (b[i - 1] == 0x2E or b[i - 1] == 0x21 or b[i - 1] == 0x3F):
                            if n_ends < _MAX_ENDS:
                                ends[n_ends, 0] = words - line_words  # (the word ended at the mark)
                                ends[n_ends, 1] = i
                            n_ends += 1
                    solid = False
                    if cp == 0x20:
                        spaces += 1
                else:
                    if first < 0:
                        first, first_wide, first_space = i, wide, spaces
                    solid = True
                wide += step - 1
                if cls & SEP:  # ("©" and ")" are separators)
                    if size_w:
                        hashes[words] = fmix64(h ^ (np.uint64(size_w) * length_mul))
                        line_key = line_key * _M2 + hashes[words]
                        words += 1
                        h = np.uint64(0)
                        size_w = 0
                    if cp == 0xA9:
                        mark = True
                    elif cp == 0x29 and c_at < 0 and i - 2 >= s and i + 1 < e:
                        if b[i - 2] == 0x28 and b[i - 1] == 0x63 and b[i + 1] == 0x20:
                            c_at = i
                else:
                    for j in range(i, i + step):
                        h = h * base + np.uint64(b[j])
                    size_w += step
                i += step
            if size_w or solid:
                last, last_wide, last_space = i, wide, spaces
            if size_w:
                hashes[words] = fmix64(h ^ (np.uint64(size_w) * length_mul))
                line_key = line_key * _M2 + hashes[words]
                words += 1
            keep = raw or first >= 0
            check = 0
            continue_line = False  # (its chunks are rows already)
            if keep and not raw:
                # Seen before in this text?
                key = _line_key(b, first, last, line_key)
                slot = np.int64(key & np.uint64(size - 1))
                while stamp[slot] == t + 1:
                    k = table[slot]
                    if _same(b, seen_start[k], seen_end[k], first, last):
                        keep = False
                        break
                    slot = (slot + 1) & (size - 1)
            if keep and not raw:
                stamp[slot] = t + 1
                table[slot] = seen
                seen_start[seen] = first
                seen_end[seen] = last
                seen_key[seen] = key
                seen += 1
                if 2 * seen >= size:  # twice the table, the text's lines put in again
                    size *= 2
                    table = np.zeros(size, dtype=np.int64)
                    stamp = np.zeros(size, dtype=np.int64)
                    grown = np.empty(size // 2, dtype=np.int64)
                    grown[:seen] = seen_start[:seen]
                    seen_start = grown
                    grown = np.empty(size // 2, dtype=np.int64)
                    grown[:seen] = seen_end[:seen]
                    seen_end = grown
                    grown_key = np.empty(size // 2, dtype=np.uint64)
                    grown_key[:seen] = seen_key[:seen]
                    seen_key = grown_key
                    for k in range(seen):
                        slot = np.int64(seen_key[k] & np.uint64(size - 1))
                        while stamp[slot] == t + 1:
                            slot = (slot + 1) & (size - 1)
                        stamp[slot] = t + 1
                        table[slot] = k
                if (
                    mark
                    or (c_at >= 0 and c_at + 1 < last)
                    or _credit_line(b, first, last, labels, label_end, phrase, char_class)
                    or _ends_with_any(b, first, last, tails, tail_end)
                ):
                    keep = False
                elif b[last - 1] == 0x29 or n_ends > _MAX_ENDS:
                    check = 1
                elif (
                    words - line_words > max_words
                    and last_space - first_space >= max_words
                    and (last - first) - (last_wide - first_wide) > 2 * max_words
                ):
                    while n_ends and ends[n_ends - 1, 1] >= last:  # (in the stripped tail)
                        n_ends -= 1
                    for n in _chunk_sizes(ends[:n_ends, 0], words - line_words, max_words):
                        lines = _row(lines, kept, n, t, first, last, 0)
                        kept += 1
                    continue_line = True
            if keep and not continue_line:
                lines = _row(lines, kept, words - line_words, t, first if first >= 0 else i,
                             last if first >= 0 else i, check)  # fmt: skip
                kept += 1
            elif not keep:
                words = line_words
            if i >= e:
                break
            i += step  # past the line break
        s = e
    return hashes[:words], lines[:kept]


@njit(cache=True, nogil=True)
def bucket_meetings(
    keys: np.ndarray, src: np.ndarray, lo: np.ndarray, hi: np.ndarray, mem: np.ndarray,
    new_from: int, suspect: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The meetings of entries (keys[e], src[e]) with the members mem[lo[e]:hi[e]] of
    their buckets: (packed pairs min << 32 | max of those whose key is not in the
    sorted `suspect`; the key, entry article and member of the others, for a closer
    look). An article never meets itself; with `new_from` >= 0, every entry of an
    article numbered from it on is one of the entries, so two such articles meet
    once, from the lower one's entry (`dedup.engine._candidates`)."""
    n = len(keys)
    flagged = np.zeros(n, dtype=np.bool_)
    plain = 0
    odd = 0
    for e in range(n):
        j = np.searchsorted(suspect, keys[e])
        flagged[e] = j < len(suspect) and suspect[j] == keys[e]
        if flagged[e]:
            odd += hi[e] - lo[e]
        else:
            plain += hi[e] - lo[e]
    packed = np.empty(plain, dtype=np.int64)
    odd_key = np.empty(odd, dtype=np.int64)
    odd_a = np.empty(odd, dtype=np.int64)
    odd_b = np.empty(odd, dtype=np.int64)
    p = 0
    o = 0
    for e in range(n):
        a = src[e]
        for m in range(lo[e], hi[e]):
            b = np.int64(mem[m])
            if a == b or (new_from >= 0 and a > b and b >= new_from):
                continue
            if flagged[e]:
                odd_key[o] = keys[e]
                odd_a[o] = a
                odd_b[o] = b
                o += 1
            else:
                packed[p] = (min(a, b) << 32) | max(a, b)
                p += 1
    return packed[:p], odd_key[:o], odd_a[:o], odd_b[:o]


@njit(cache=True, nogil=True)
def rows_holding(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row of `rows` (2-D), whether it holds one of `values` (a few thousand
    at most: the hot LSH keys), looked up in an open-addressing table of them rather
    than searched for row by row."""
    size = _slots(max(1, len(values)))
    mask = np.uint64(size - 1)
    table = np.empty(size, dtype=np.int64)
    used = np.zeros(size, dtype=np.bool_)
    for v in values:
        slot = fmix64(np.uint64(v)) & mask
        while used[slot] and table[slot] != v:
            slot = (slot + np.uint64(1)) & mask
        used[slot] = True
        table[slot] = v
    out = np.zeros(rows.shape[0], dtype=np.bool_)
    for r in range(rows.shape[0]):
        for c in range(rows.shape[1]):
            x = rows[r, c]
            slot = fmix64(np.uint64(x)) & mask
            while used[slot]:
                if table[slot] == x:
                    out[r] = True
                    break
                slot = (slot + np.uint64(1)) & mask
            if out[r]:
                break
    return out


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
                slot = _probe(keys, stamp, c + 1, x, mask)
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
    words: np.ndarray, counts: np.ndarray, k: int, fold: np.ndarray, min_words: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique shingles of each kept passage in the order they first occur, one passage
    after the other; how many each kept passage has; the kept passages' words, the
    first of each with its lowest bit flipped), from the word hashes of passages of
    counts[p] words, one after the other. A passage of fewer than `min_words` words
    (min_words >= k) is dropped.

    A shingle is k consecutive words: fmix64(sum of word j * fold[j % len(fold)])
    (mod 2^64), its top 32 bits (see `dedup.sketch.shingle_hash`). Repeats are dropped
    with a small open-addressing table (a shingle's low bits index it), in one pass:
    no reader needs a passage sorted (MinHash takes minima, verification looks each
    shingle up, an article's set is sorted on its own), and sorting a passage's few
    dozen shingles by insertion cost twice as much as making them. The flipped words
    mark passage breaks for the hash of a text's words (`dedup.sketch._shingled`).
    """
    total = 0
    kept_words = 0
    kept = 0
    longest = 0
    for p in range(len(counts)):
        if counts[p] >= min_words:
            total += counts[p] - k + 1
            kept_words += counts[p]
            kept += 1
            longest = max(longest, counts[p])
    out = np.empty(total, dtype=np.uint32)
    per_pass = np.zeros(kept, dtype=np.int64)
    marked = np.empty(kept_words, dtype=np.uint64)
    size = _slots(longest)
    mask = size - 1
    table = np.zeros(size, dtype=np.uint32)
    stamp = np.zeros(size, dtype=np.int64)  # == q + 1: the slot holds a shingle of passage q
    mul = np.empty(k, dtype=np.uint64)  # (a division per word would cost a third)
    for j in range(k):
        mul[j] = fold[j % len(fold)]
    start = 0
    o = 0
    w = 0
    q = 0  # kept passages so far
    for p in range(len(counts)):
        if counts[p] < min_words:
            start += counts[p]
            continue
        marked[w : w + counts[p]] = words[start : start + counts[p]]
        marked[w] ^= np.uint64(1)
        w += counts[p]
        m = counts[p] - k + 1
        n = 0
        for i in range(m):
            acc = np.uint64(0)
            for j in range(k):
                acc += words[start + i + j] * mul[j]
            v = np.uint32(fmix64(acc) >> np.uint64(32))
            slot = _probe(table, stamp, q + 1, v, mask)
            if stamp[slot] != q + 1:
                stamp[slot] = q + 1
                table[slot] = v
                out[o + n] = v
                n += 1
        per_pass[q] = n
        o += n
        q += 1
        start += counts[p]
    return out[:o], per_pass, marked


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


@njit(cache=True, nogil=True)
def _n_digits(x: np.int64) -> int:
    n = 2 if x < 0 else 1
    x = abs(x)
    while x >= 10:
        x //= 10
        n += 1
    return n


@njit(cache=True, nogil=True)
def _put_int(x: np.int64, buf: np.ndarray, at: int) -> int:
    """x in decimal at buf[at:]; returns where it ends."""
    if x < 0:
        buf[at] = 45  # "-"
        at += 1
        x = -x
    end = at + _n_digits(x)
    i = end
    while True:
        i -= 1
        buf[i] = 48 + x % 10
        x //= 10
        if x == 0:
            break
    return end


@njit(cache=True, nogil=True)
def json_lines(counts: np.ndarray, keys: np.ndarray, values: np.ndarray, as_dict: bool) -> np.ndarray:
    """Line i holds the next counts[i] items as `json.dumps` writes them: the dict
    {keys: values} ('{"0": 12, "3": 5}', `dedup.rule_graph.PairHits` sides), or with
    `as_dict` false the list of values ('[12, 5]'; `keys` unread). Returns the lines
    in ASCII bytes, each ended by a line feed (which JSON of numbers never holds)."""
    size = 0
    v = 0
    for i in range(len(counts)):
        size += 3 + max(counts[i] - 1, 0) * 2  # brackets, line feed, ", " between items
        for _ in range(counts[i]):
            size += _n_digits(values[v])
            if as_dict:
                size += 4 + _n_digits(keys[v])  # '"' '"' ': '
            v += 1
    buf = np.empty(size, np.uint8)
    at = 0
    v = 0
    for i in range(len(counts)):
        buf[at] = 123 if as_dict else 91  # "{" or "["
        at += 1
        for j in range(counts[i]):
            if j:
                buf[at] = 44  # ","
                buf[at + 1] = 32
                at += 2
            if as_dict:
                buf[at] = 34  # '"'
                at = _put_int(keys[v], buf, at + 1)
                buf[at] = 34
                buf[at + 1] = 58  # ":"
                buf[at + 2] = 32
                at += 3
            at = _put_int(values[v], buf, at)
            v += 1
        buf[at] = 125 if as_dict else 93  # "}" or "]"
        buf[at + 1] = 10
        at += 2
    return buf


@njit(cache=True, nogil=True)
def set_insert(table: np.ndarray, values: np.ndarray, out: np.ndarray) -> int:
    """Put non-negative int64 `values` into an open-addressing set (`table`: a power of
    two long, -1 in a free slot, left at most half full by the caller); those it did
    not hold go to out[:n] in order of first sight. Returns n."""
    mask = np.uint64(len(table) - 1)
    n = 0
    for v in values:
        slot = np.int64(fmix64(np.uint64(v)) & mask)
        while True:
            held = table[slot]
            if held == v:
                break
            if held == -1:
                table[slot] = v
                out[n] = v
                n += 1
                break
            slot = (slot + 1) & (len(table) - 1)
    return n

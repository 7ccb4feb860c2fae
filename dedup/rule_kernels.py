"""The rules of `dedup.relations` compiled over arrays: background passages (rule 3),
containers (rule 2), copy edges (rule 4) and clusters (rule 5) for many articles at
once.

`dedup.relations` says each rule in Python over `Node` and `Pair` objects; it stays
the reference, and the tests compare these kernels with it on random graphs. Here
the same graph is a set of arrays (`dedup.rule_graph.RuleGraph` builds them):

- articles 0..n-1: `total` shingles, `code` (equal for equal `text_hash`), `has_text`,
  `container`, and their passages `sizes[p_start[d]:][:p_n[d]]` (shingles each), with a
  flag per passage for background0 (`bg0`) and background (`bg`);
- pairs 0..m-1 of articles `pa[k]` < `pb[k]`; side s = 2k is a's, 2k + 1 b's: the
  passages of that side the other article has shingles of, `h_pass[h_start[s]:][:h_n[s]]`,
  with their counts (`h_count`), whether each is matched (`h_match`, passage_match of
  it found), and their sum (`found[s]`); `copy0[k]` is rule 1 on raw containments;
- each article's neighbours: `adj_node[adj_start[d]:adj_start[d + 1]]`, through pair
  `adj_pair` on side `adj_side` (the article's own side).

Every result is a function of these sets, never of the order they are listed in.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def skipped(
    flags: np.ndarray, p_start: np.ndarray, p_n: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per article: whether any passage is flagged, and the shingles of those that are."""
    n = len(p_start)
    any_ = np.zeros(n, np.bool_)
    left = np.zeros(n, np.int64)
    for d in range(n):
        for j in range(p_start[d], p_start[d] + p_n[d]):
            if flags[j]:
                any_[d] = True
                left[d] += sizes[j]
    return any_, left


@njit(cache=True, nogil=True, inline="always")
def _contained(
    s: int, d: int, flags: np.ndarray, any_: np.ndarray, left: np.ndarray,
    total: np.ndarray, p_start: np.ndarray, found: np.ndarray,
    h_start: np.ndarray, h_n: np.ndarray, h_pass: np.ndarray, h_count: np.ndarray,
) -> float:  # fmt: skip
    """C(d|other) on side s of a pair, d's flagged passages left out
    (`relations.containment`)."""
    if not any_[d]:
        return found[s] / total[d] if total[d] else 0.0
    t = total[d] - left[d]
    if t <= 0:
        return 0.0
    f = 0
    base = p_start[d]
    for h in range(h_start[s], h_start[s] + h_n[s]):
        if not flags[base + h_pass[h]]:
            f += h_count[h]
    return f / t


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def _union(parent: np.ndarray, a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


@njit(cache=True, nogil=True)
def _join_copies(
    members: np.ndarray, m: int, parent: np.ndarray, pos: np.ndarray,
    code: np.ndarray, has_text: np.ndarray, copy0: np.ndarray,
    adj_start: np.ndarray, adj_node: np.ndarray, adj_pair: np.ndarray,
) -> None:  # fmt: skip
    """Union members[:m] (positions in `parent`) that are copies of each other by rule 1
    or exact duplicates (`relations._join_copies`). `pos` is -1 for every article on
    entry and on return."""
    for j in range(m):
        pos[members[j]] = j
    keys = np.empty(m, np.int64)
    at = np.empty(m, np.int64)
    t = 0
    for j in range(m):
        x = members[j]
        if has_text[x]:
            keys[t] = code[x]
            at[t] = j
            t += 1
    if t > 1:
        order = np.argsort(keys[:t])
        for u in range(1, t):
            if keys[order[u]] == keys[order[u - 1]]:
                _union(parent, at[order[u]], at[order[u - 1]])
    for j in range(m):
        x = members[j]
        for e in range(adj_start[x], adj_start[x + 1]):
            y = adj_node[e]
            if pos[y] >= 0 and copy0[adj_pair[e]]:
                _union(parent, j, pos[y])
    for j in range(m):
        pos[members[j]] = -1


@njit(cache=True, nogil=True)
def _count_roots(parent: np.ndarray, m: int) -> int:
    count = 0
    for j in range(m):
        if _find(parent, j) == j:
            count += 1
    return count


@njit(cache=True, nogil=True)
def background(
    ids: np.ndarray, skip_containers: bool, groups_needed: int, out: np.ndarray,
    code: np.ndarray, has_text: np.ndarray, container: np.ndarray,
    p_start: np.ndarray, p_n: np.ndarray, bg0: np.ndarray,
    h_start: np.ndarray, h_n: np.ndarray, h_pass: np.ndarray, h_match: np.ndarray, copy0: np.ndarray,
    adj_start: np.ndarray, adj_node: np.ndarray, adj_pair: np.ndarray, adj_side: np.ndarray,
) -> None:  # fmt: skip
    """Rule 3 for the articles `ids` (`relations.background_passages`): their passages'
    flags in `out` (laid out as `sizes`), each set or cleared."""
    n = len(p_start)
    pos = np.full(n, -1, np.int64)
    for d in ids:
        base = p_start[d]
        for j in range(base, base + p_n[d]):
            out[j] = False
        deg = adj_start[d + 1] - adj_start[d]
        if deg + 1 < groups_needed:
            continue
        copies = 0
        held_by_container = False
        for e in range(adj_start[d], adj_start[d + 1]):
            if copy0[adj_pair[e]]:
                copies += 1
            if container[adj_node[e]]:
                held_by_container = True
        if deg - copies + 1 < groups_needed:
            continue
        if skip_containers and not held_by_container:
            for j in range(base, base + p_n[d]):
                out[j] = bg0[j]
            continue
        # Holders of each passage of d (CSR over d's passages), and how many of them
        # are not d's copies.
        np_ = p_n[d]
        count = np.zeros(np_ + 1, np.int64)
        for e in range(adj_start[d], adj_start[d + 1]):
            if skip_containers and container[adj_node[e]]:
                continue
            s = 2 * adj_pair[e] + adj_side[e]
            for h in range(h_start[s], h_start[s] + h_n[s]):
                if h_match[h]:
                    count[h_pass[h] + 1] += 1
        for i in range(np_):
            count[i + 1] += count[i]
        holders = np.empty(count[np_], np.int64)
        fill = count[:np_].copy()
        outsiders = np.zeros(np_, np.int64)
        for e in range(adj_start[d], adj_start[d + 1]):
            x = adj_node[e]
            if skip_containers and container[x]:
                continue
            k = adj_pair[e]
            s = 2 * k + adj_side[e]
            for h in range(h_start[s], h_start[s] + h_n[s]):
                if h_match[h]:
                    i = h_pass[h]
                    holders[fill[i]] = x
                    fill[i] += 1
                    if not copy0[k]:
                        outsiders[i] += 1
        # Passages held by the same articles are counted once (a memo of holder sets,
        # each compared whole).
        memo_at = np.empty(np_, np.int64)  # passage whose holder set a memo entry is
        memo_sum = np.empty(np_, np.int64)
        memo_groups = np.empty(np_, np.int64)
        n_memo = 0
        for i in range(np_):
            a, z = count[i], count[i + 1]
            if z - a + 1 < groups_needed or outsiders[i] + 1 < groups_needed:
                continue
            xs = np.sort(holders[a:z])
            holders[a:z] = xs
            key = 0
            for x in xs:
                key += x * 2654435761 + 1
            groups = -1
            for u in range(n_memo):
                j = memo_at[u]
                if memo_sum[u] != key or count[j + 1] - count[j] != z - a:
                    continue
                same = True
                for v in range(z - a):
                    if holders[count[j] + v] != xs[v]:
                        same = False
                        break
                if same:
                    groups = memo_groups[u]
                    break
            if groups < 0:
                members = np.empty(z - a + 1, np.int64)
                members[0] = d
                members[1:] = xs
                parent = np.arange(z - a + 1)
                _join_copies(
                    members, z - a + 1, parent, pos, code, has_text, copy0,
                    adj_start, adj_node, adj_pair,
                )  # fmt: skip
                groups = _count_roots(parent, z - a + 1)
                memo_at[n_memo] = i
                memo_sum[n_memo] = key
                memo_groups[n_memo] = groups
                n_memo += 1
            if groups >= groups_needed:
                out[base + i] = True


@njit(cache=True, nogil=True)
def containers(
    ids: np.ndarray, out: np.ndarray, copy_at: float, hold_at: float,
    total: np.ndarray, code: np.ndarray, has_text: np.ndarray,
    p_start: np.ndarray, bg0: np.ndarray, bg0_any: np.ndarray, bg0_left: np.ndarray,
    found: np.ndarray, h_start: np.ndarray, h_n: np.ndarray, h_pass: np.ndarray,
    h_count: np.ndarray, h_match: np.ndarray, copy0: np.ndarray,
    adj_start: np.ndarray, adj_node: np.ndarray, adj_pair: np.ndarray, adj_side: np.ndarray,
) -> None:  # fmt: skip
    """Rule 2 for the articles `ids` (`relations.container_flag`), into out[d]."""
    n = len(p_start)
    pos = np.full(n, -1, np.int64)
    most = 0
    for d in ids:
        most = max(most, adj_start[d + 1] - adj_start[d])
    quoted = np.empty(most, np.int64)  # (d's quoted neighbours and their spans)
    lo = np.empty(most, np.int64)
    hi = np.empty(most, np.int64)
    for d in ids:
        deg = adj_start[d + 1] - adj_start[d]
        out[d] = False
        if deg == 0:
            continue
        m = 0
        has_copy = False
        held = False
        base = p_start[d]
        for e in range(adj_start[d], adj_start[d + 1]):
            x = adj_node[e]
            if has_text[x] and code[x] == code[d]:
                continue  # an exact duplicate says nothing about d's structure
            k = adj_pair[e]
            s_d = 2 * k + adj_side[e]
            s_x = 2 * k + 1 - adj_side[e]
            c_x = _contained(
                s_x, x, bg0, bg0_any, bg0_left, total, p_start, found, h_start, h_n, h_pass, h_count
            )
            c_d = _contained(
                s_d, d, bg0, bg0_any, bg0_left, total, p_start, found, h_start, h_n, h_pass, h_count
            )
            copy = c_x >= copy_at and c_d >= copy_at
            if not copy and not (c_x >= hold_at and c_x > c_d):
                continue
            first = -1
            last = -1
            for h in range(h_start[s_d], h_start[s_d] + h_n[s_d]):
                i = h_pass[h]
                if h_match[h] and not bg0[base + i]:
                    if first < 0 or i < first:
                        first = i
                    if i > last:
                        last = i
            if first < 0:
                continue
            has_copy |= copy
            held |= not copy
            quoted[m] = x
            lo[m] = first
            hi[m] = last
            m += 1
        if m < 2:
            out[d] = held and not has_copy
            continue
        # Spans sorted by start: the groups of overlapping spans in one sweep.
        order = np.argsort(lo[:m] * (np.int64(1) << 32) + hi[:m])
        groups = 1
        end = hi[order[0]]
        for u in range(1, m):
            if lo[order[u]] <= end:
                end = max(end, hi[order[u]])
            else:
                groups += 1
                end = hi[order[u]]
        if groups >= 2:
            parent = np.arange(m)
            end = hi[order[0]]
            for u in range(1, m):
                if lo[order[u]] <= end:
                    _union(parent, order[u - 1], order[u])
                    end = max(end, hi[order[u]])
                else:
                    end = hi[order[u]]
            _join_copies(quoted, m, parent, pos, code, has_text, copy0, adj_start, adj_node, adj_pair)
            if _count_roots(parent, m) >= 2:
                out[d] = True
                continue
        out[d] = not has_copy and held


@njit(cache=True, nogil=True)
def copy_edges(
    first: int, copy_at: float, pa: np.ndarray, pb: np.ndarray,
    total: np.ndarray, code: np.ndarray, has_text: np.ndarray, container: np.ndarray,
    p_start: np.ndarray, bg: np.ndarray, bg_any: np.ndarray, bg_left: np.ndarray,
    found: np.ndarray, h_start: np.ndarray, h_n: np.ndarray, h_pass: np.ndarray, h_count: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Rule 4 for the pairs from `first` on (`relations.is_copy_edge`), and each side's
    containment with its background left out (`relations.weighted_containments`)."""
    m = len(pa) - first
    edge = np.zeros(m, np.bool_)
    c = np.zeros(2 * m, np.float64)
    for j in range(m):
        k = first + j
        a, b = pa[k], pb[k]
        c[2 * j] = _contained(
            2 * k, a, bg, bg_any, bg_left, total, p_start, found, h_start, h_n, h_pass, h_count
        )
        c[2 * j + 1] = _contained(
            2 * k + 1, b, bg, bg_any, bg_left, total, p_start, found, h_start, h_n, h_pass, h_count
        )
        if has_text[a] and code[a] == code[b]:
            edge[j] = True
        elif not container[a] and not container[b]:
            edge[j] = min(c[2 * j], c[2 * j + 1]) >= copy_at
    return edge, c


@njit(cache=True, nogil=True)
def components(
    rank: np.ndarray, n_region: int, pa: np.ndarray, pb: np.ndarray, edge: np.ndarray,
    code: np.ndarray, has_text: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Connected components (rule 5) of the articles with rank[d] >= 0 (0..n_region-1,
    their ids' order), under copy edges between two of them and equal texts: each
    one's label, the smallest rank in its component."""
    parent = np.arange(n_region)
    for k in range(len(pa)):
        if edge[k] and rank[pa[k]] >= 0 and rank[pb[k]] >= 0:
            _union(parent, rank[pa[k]], rank[pb[k]])
    texts = np.flatnonzero((rank >= 0) & has_text)
    if len(texts) > 1:
        by_code = texts[np.argsort(code[texts], kind="mergesort")]
        for u in range(1, len(by_code)):
            if code[by_code[u]] == code[by_code[u - 1]]:
                _union(parent, rank[by_code[u]], rank[by_code[u - 1]])
    label = np.empty(n_region, np.int64)
    for r in range(n_region):
        label[r] = _find(parent, r)
    return label

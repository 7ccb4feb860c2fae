"""From verified pairs to copies, containers and clusters: pure functions, no I/O.

Vocabulary. A *pair* is two articles whose passages met in the LSH index and that
share text, with per-passage counts of shared shingles on both sides. C(x|d) is the
*containment* of x in d: the share of x's shingles found in d.

The rules, in the order they are applied:

1. *Copy* (unweighted): min(C(a|b), C(b|a)) >= copy_threshold: each article has a
   good part of its text in the other, whatever their lengths.
2. *Container*: an article that holds a substantial part of others without being
   their copy. Either it has no copy but holds >= contain_threshold of some article
   (a ticker quoting one story's lead), or the articles it quotes fall into two or
   more groups that match separate stretches of it (their spans of passages do not
   overlap) and are not copies of each other (a ticker or round-up quoting several
   stories one after the other). A container is linked to the clusters it quotes
   but never joins them, so it cannot chain them.
3. *Background*: a passage found in articles of `background_groups` or more groups
   of copies (containers left out) is standard background, an agency's boilerplate
   paragraph appended to many stories; it is left out of both sides' shingle counts.
4. *Copy edge* (final): rule 1 again, with background passages left out; only
   between non-containers. Exact duplicates (same normalized text) are always joined.
5. *Clusters* are the connected components of copy edges. Everything here is a
   function of the set of articles and pairs, never of their order.

The engine runs these rules compiled over the graph as arrays (`dedup.rule_kernels`,
`dedup.rule_graph`); the functions here say them in Python, and the tests hold the two
to the same results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from dedup.params import Params


@dataclass(slots=True)
class Node:
    """What the clustering needs to know about one article."""

    id: str
    text_hash: str
    sizes: tuple[int, ...]  # shingles per passage
    published: str | None = None
    credits_agency: bool = False  # the article names an agency in `articles.agencies`
    # Filled in this order by the engine: background0 (all holders counted), container
    # (judged without background0 passages), background (containers not counted).
    background0: frozenset[int] = frozenset()
    container: bool = False
    background: frozenset[int] = frozenset()
    total: int = field(init=False, default=0)
    has_text: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.sizes = tuple(map(int, self.sizes))
        self.total = sum(self.sizes)
        self.has_text = self.total > 0


class Pair:
    """Shared shingles of two articles, per passage of each side (a < b).

    `a_hits` maps a passage of a to its shingles found in b (`b_hits` likewise). A
    pair verified in a batch holds its batch's hits as arrays instead (`source`: the
    arrays of `dedup.rule_graph.PairHits`, their offsets, and the pair's place in
    them), and makes the dicts only when they are asked for: the engine reads the
    arrays, and most pairs' dicts are never needed.
    """

    __slots__ = (
        "a", "b", "_a_hits", "_b_hits", "_source", "_contained", "_a_matched", "_b_matched",
        "_copy0", "_a_found", "_b_found", "k",
    )  # fmt: skip

    def __init__(
        self,
        a: str,
        b: str,
        a_hits: dict[int, int] | None = None,
        b_hits: dict[int, int] | None = None,
        *,
        source: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], int] | None = None,
        _copy0: bool | None = None,
    ) -> None:
        if (a_hits is None or b_hits is None) and source is None:
            raise ValueError("a pair needs its hits, as dicts or as arrays")
        self.a, self.b = a, b
        self._a_hits, self._b_hits = a_hits, b_hits
        self._source = source
        # Caches: a pair's hits never change, so neither does C(side|other) for a given
        # set of left-out passages, nor the passages of a side that the other matches (a
        # bit mask: an int is a tenth of a frozenset's memory, for every pair of a window).
        self._contained: dict[tuple[str, frozenset[int]], float] | None = None
        self._a_matched: int | None = None
        self._b_matched: int | None = None
        self._copy0 = _copy0
        self._a_found = -1  # shingles of a found in b (-1: not summed yet)
        self._b_found = -1
        self.k = -1  # its number in a `dedup.rule_graph.RuleGraph`

    def _side(self, side: int) -> dict[int, int]:
        assert self._source is not None
        (h_n, h_pass, h_count, h_start), k = self._source
        s = 2 * k + side
        i, n = int(h_start[s]), int(h_n[s])
        return dict(zip(h_pass[i : i + n].tolist(), h_count[i : i + n].tolist(), strict=True))

    @property
    def a_hits(self) -> dict[int, int]:
        if self._a_hits is None:
            self._a_hits = self._side(0)
        return self._a_hits

    @property
    def b_hits(self) -> dict[int, int]:
        if self._b_hits is None:
            self._b_hits = self._side(1)
        return self._b_hits

    def found(self, side: str) -> int:
        """How many of `side`'s shingles the other article has."""
        if side == self.a:
            if self._a_found < 0:
                self._a_found = sum(self.a_hits.values())
            return self._a_found
        if self._b_found < 0:
            self._b_found = sum(self.b_hits.values())
        return self._b_found

    def copy0(self, g: Graph, params: Params) -> bool:
        """Rule 1 on raw containments (computed once; a pair's hits never change)."""
        if self._copy0 is None:
            na, nb = g.nodes[self.a], g.nodes[self.b]
            self._copy0 = copy_rule(self.contained(na), self.contained(nb), params)
        return self._copy0

    def hits(self, side: str) -> dict[int, int]:
        return self.a_hits if side == self.a else self.b_hits

    def contained(self, node: Node, skip: frozenset[int] = frozenset()) -> float:
        """C(node|other) with the passages in `skip` left out (computed once per skip set)."""
        if not skip:
            found = self.found(node.id)
            return found / node.total if node.total else 0.0
        if self._contained is None:
            self._contained = {}
        key = (node.id, skip)
        c = self._contained.get(key)
        if c is None:
            c = self._contained[key] = containment(node, self.hits(node.id), skip)
        return c

    def matched(self, node: Node, params: Params) -> int:
        """Passages of `node` matched in the other article, as a bit mask
        (`matched_passages`), computed once."""
        if node.id == self.a:
            if self._a_matched is None:
                self._a_matched = matched_passages(node, self.a_hits, params)
            return self._a_matched
        if self._b_matched is None:
            self._b_matched = matched_passages(node, self.b_hits, params)
        return self._b_matched


# The neighbors of an article without pairs (shared, read-only: no dict per lookup).
_NO_NEIGHBORS: Mapping[str, Pair] = MappingProxyType({})


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    adj: dict[str, dict[str, Pair]] = field(default_factory=dict)
    # Cache: article -> its neighbors that are copies by rule 1 (most pairs are not).
    _copies: dict[str, list[str]] = field(default_factory=dict)

    def add_pair(self, pair: Pair) -> None:
        self.adj.setdefault(pair.a, {})[pair.b] = pair
        self.adj.setdefault(pair.b, {})[pair.a] = pair
        self._copies.pop(pair.a, None)
        self._copies.pop(pair.b, None)

    def add_pairs(self, pairs: Iterable[Pair]) -> None:
        """`add_pair` for many (a batch just verified)."""
        adj, copies = self.adj, self._copies
        for p in pairs:
            adj.setdefault(p.a, {})[p.b] = p
            adj.setdefault(p.b, {})[p.a] = p
            if copies:
                copies.pop(p.a, None)
                copies.pop(p.b, None)

    def drop_pair(self, a: str, b: str) -> None:
        self.adj.get(a, {}).pop(b, None)
        self.adj.get(b, {}).pop(a, None)
        self._copies.pop(a, None)
        self._copies.pop(b, None)

    def copies(self, d: str, params: Params) -> list[str]:
        """d's neighbors that are its copies by rule 1 (raw containments)."""
        out = self._copies.get(d)
        if out is None:
            out = self._copies[d] = [x for x, p in self.neighbors(d).items() if p.copy0(self, params)]
        return out

    def neighbors(self, d: str) -> Mapping[str, Pair]:
        return self.adj.get(d, _NO_NEIGHBORS)

    def pair(self, x: str, y: str) -> Pair | None:
        return self.adj.get(x, _NO_NEIGHBORS).get(y)


def containment(
    node: Node, hits: dict[int, int], skip: frozenset[int] | set[int] = frozenset()
) -> float:
    """Share of `node`'s shingles (passages in `skip` left out) that `hits` found elsewhere."""
    if not skip:
        return sum(hits.values()) / node.total if node.total else 0.0
    total = node.total - sum(node.sizes[i] for i in skip)
    if total <= 0:
        return 0.0
    return sum(c for i, c in hits.items() if i not in skip) / total


def matched_passages(node: Node, hits: dict[int, int], params: Params) -> int:
    """The passages of `node` that `hits` finds `passage_match` of, as a bit mask (bit i
    for passage i)."""
    mask = 0
    for i, c in hits.items():
        if c >= params.passage_match * node.sizes[i]:
            mask |= 1 << i
    return mask


def mask_of(passages: Iterable[int]) -> int:
    """A bit mask of passage numbers."""
    mask = 0
    for i in passages:
        mask |= 1 << i
    return mask


def passages_of(mask: int) -> list[int]:
    """The passage numbers of a bit mask, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def copy_rule(c_a: float, c_b: float, params: Params) -> bool:
    """Rule 1 on two containments: each side has `copy_threshold` of its text in the other."""
    return min(c_a, c_b) >= params.copy_threshold


def is_copy0(g: Graph, x: str, y: str, params: Params) -> bool:
    """Rule 1: copies by raw containment (or exact duplicates)."""
    nx, ny = g.nodes[x], g.nodes[y]
    if nx.has_text and nx.text_hash == ny.text_hash:
        return True
    p = g.pair(x, y)
    return p is not None and p.copy0(g, params)


def container_flag(g: Graph, d: str, params: Params) -> bool:
    """Rule 2, from d's pairs and the pairs among its neighbors.

    d's *quoted* neighbors are its copies and the articles it holds (C(x|d) >=
    contain_threshold and more than C(d|x)). Each is placed where it matches d:
    the span from the first to the last passage of d it matches (d's background
    passages left out). Two quoted articles are one group when their spans
    overlap or they are copies of each other. d is a container when the groups
    are two or more (a ticker strings unrelated stories one after the other,
    while copies of one story match passages all over it), or when it has no
    copy but holds some article (a ticker quoting one known story).
    """
    neighbors = g.neighbors(d)
    if not neighbors:
        return False
    nodes = g.nodes
    node = nodes[d]
    own_hash, own_bg = node.text_hash, node.background0
    keep = ~mask_of(own_bg)
    copy_at, hold_at = params.copy_threshold, params.contain_threshold
    quoted: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    has_copy = held = False
    # (in any order: the groups are the same however the spans are visited)
    for x, p in neighbors.items():
        nx = nodes[x]
        if nx.has_text and nx.text_hash == own_hash:
            continue  # an exact duplicate says nothing about d's structure
        c_x = p.contained(nx, nx.background0)
        c_d = p.contained(node, own_bg)
        copy = c_x >= copy_at and c_d >= copy_at  # (`copy_rule`)
        if not copy and not (c_x >= hold_at and c_x > c_d):
            continue
        where = p.matched(node, params) & keep
        if not where:
            continue
        has_copy |= copy
        held |= not copy
        quoted.append(x)
        spans[x] = ((where & -where).bit_length() - 1, where.bit_length() - 1)  # lowest, highest
    if len(quoted) < 2:
        return held and not has_copy  # one group at most
    # Overlapping spans: a sweep over spans sorted by start joins each span to the
    # running group while it starts before the group's end (the components of the
    # interval-overlap graph, without comparing every two spans). Most articles quote
    # one group: it is counted first, and the groups are only built when there are more.
    by_start = sorted(quoted, key=lambda x: spans[x])
    if _span_groups(by_start, spans, None) >= 2:
        groups = UnionFind(quoted)
        _span_groups(by_start, spans, groups)
        # Copies of each other are one group wherever they match.
        _join_copies(g, groups, quoted, params)
        if groups.count() >= 2:
            return True
    return not has_copy and held


def _span_groups(
    by_start: list[str], spans: dict[str, tuple[int, int]], groups: UnionFind | None
) -> int:
    """The groups of overlapping spans (sorted by start), joined in `groups` if given."""
    count = 1
    end = spans[by_start[0]][1]
    for prev, x in zip(by_start, by_start[1:], strict=False):
        s0, s1 = spans[x]
        if s0 <= end:
            if groups is not None:
                groups.union(prev, x)
            end = max(end, s1)
        else:
            count += 1
            end = s1
    return count


def _join_copies(g: Graph, groups: UnionFind, members: list[str], params: Params) -> None:
    """Union members that are copies of each other (rule 1, exact duplicates included).

    The first member's copies are joined first; then only the members outside its
    group need their copies looked at: copying is symmetric, so any link from a
    member of that group to an outsider is seen from the outsider's side.
    """
    inside = groups.parent
    first_of_hash: dict[str, str] = {}
    for x in members:
        nx = g.nodes[x]
        if nx.has_text:
            groups.union(x, first_of_hash.setdefault(nx.text_hash, x))
    d = members[0]
    for x in members:
        if x != d and groups.find(x) == groups.find(d):
            continue
        for y in g.copies(x, params):
            if y in inside:
                groups.union(x, y)


def background_passages(
    g: Graph, d: str, params: Params, *, skip_containers: bool
) -> frozenset[int]:
    """Rule 3: d's passages that recur in too many unrelated groups of articles.

    First computed counting every holder (`skip_containers=False`, to judge
    containers without background), then again leaving containers out: a ticker
    quoting a story's lead must not turn that lead into background.
    """
    node = g.nodes[d]
    neighbors = g.neighbors(d)
    if len(neighbors) + 1 < params.background_groups:
        return frozenset()  # too few holders for any passage
    copies = g.copies(d, params)  # in d's group whatever else holds a passage
    if len(neighbors) - len(copies) + 1 < params.background_groups:
        return frozenset()  # too few holders outside d's group for any passage
    if skip_containers and not any(g.nodes[x].container for x in neighbors):
        return node.background0  # the same holders as for background0
    holders: dict[int, list[str]] = {}
    for x, p in neighbors.items():
        if skip_containers and g.nodes[x].container:
            continue
        for i in passages_of(p.matched(node, params)):
            holders.setdefault(i, []).append(x)
    out = set()
    groups: dict[frozenset[str], int] = {}  # passages held by the same articles: count once
    mine = set(copies)
    for i, xs in holders.items():
        if len(xs) + 1 < params.background_groups:
            continue
        # d's copies add no group: with fewer other holders than groups needed, stop here.
        if sum(1 for x in xs if x not in mine) + 1 < params.background_groups:
            continue
        key = frozenset(xs)
        if key not in groups:
            groups[key] = count_groups(g, [d, *xs], params)
        if groups[key] >= params.background_groups:
            out.add(i)
    return frozenset(out)


def count_groups(g: Graph, members: list[str], params: Params) -> int:
    """How many groups of copies (rule 1, exact duplicates included) `members` form."""
    groups = UnionFind(members)
    _join_copies(g, groups, members, params)
    return groups.count()


def weighted_containments(g: Graph, p: Pair) -> tuple[float, float]:
    """(C(a|b), C(b|a)) with each side's background passages left out."""
    na, nb = g.nodes[p.a], g.nodes[p.b]
    return p.contained(na, na.background), p.contained(nb, nb.background)


def is_copy_edge(g: Graph, p: Pair, params: Params) -> bool:
    """Rule 4."""
    na, nb = g.nodes[p.a], g.nodes[p.b]
    if na.has_text and na.text_hash == nb.text_hash:
        return True
    if na.container or nb.container:
        return False
    return copy_rule(*weighted_containments(g, p), params)


@lru_cache(maxsize=1 << 16)  # (copies of a story often carry the same time)
def _published_key(value: str | None) -> tuple[int, float]:
    if not value:
        return (1, 0.0)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return (1, 0.0)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (0, dt.timestamp())


def representative(members: Iterable[Node]) -> Node:
    """The cluster's representative: the earliest published copy.

    Among copies published at the same time (or all undated) one that credits an
    agency is preferred, as it is closest to the wire; ties end on the article id,
    so the choice never depends on arrival order.
    """
    return min(members, key=lambda n: (_published_key(n.published), not n.credits_agency, n.id))


class UnionFind:
    """Disjoint sets of ids (union by smaller id, path halving)."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, x: str) -> str:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def count(self) -> int:
        return len({self.find(x) for x in self.parent})


def components(ids: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Connected components, each sorted, listed in order of their smallest id.

    Label propagation over arrays: every article starts with its own position in id
    order, each edge lowers both ends to the smaller label, and labels follow their
    labels until nothing changes; the label left is the component's smallest id.
    """
    names = sorted(set(ids))
    if not names:
        return []
    where = {x: i for i, x in enumerate(names)}
    pairs = [(where[a], where[b]) for a, b in edges]
    label = np.arange(len(names), dtype=np.int64)
    if pairs:
        a, b = np.array(pairs, dtype=np.int64).T
        while True:
            low = np.minimum(label[a], label[b])
            before = label.copy()
            np.minimum.at(label, a, low)
            np.minimum.at(label, b, low)
            label = label[label]  # follow labels to their own labels
            if np.array_equal(label, before):
                break
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    return [[names[i] for i in part] for part in np.split(order, cuts)]

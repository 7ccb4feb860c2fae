"""The pair graph as arrays, for the compiled rules (`dedup.rule_kernels`).

`RuleGraph` numbers the articles and pairs a `relations.Graph` holds, keeps their
flags in arrays while the rules run, and writes each flag that changes back to its
`Node`, so the rest of the engine (and `relations`, the reference) sees the same
graph. Articles and pairs loaded into the graph later are added by `sync`.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from operator import attrgetter

import numpy as np

from dedup import rule_kernels as rk
from dedup.params import Params
from dedup.relations import Graph, Node, Pair

_I64 = np.int64
# The hits of a list of pairs as arrays: per side (a's, then b's, pair after pair) the
# number of passages with hits; those passages; their counts (as `Pair.a_hits` holds them).
PairHits = tuple[np.ndarray, np.ndarray, np.ndarray]
_A, _B = attrgetter("a"), attrgetter("b")
_ID, _TOTAL, _HASH, _SIZES = (attrgetter(x) for x in ("id", "total", "text_hash", "sizes"))
_BG0, _BG, _CONTAINER = (attrgetter(x) for x in ("background0", "background", "container"))


class RuleGraph:
    def __init__(
        self, g: Graph, params: Params, pairs: list[tuple[list[Pair], PairHits | None]] | None = None
    ) -> None:
        """`pairs`: the graph's pairs in batches, each with its hits as arrays where they
        are at hand (`LazyGraph.batches`); all of `g`'s pairs (their dicts read) if not given."""
        self.g = g
        self.params = params
        self.names: list[str] = []
        self.num: dict[str, int] = {}
        self.codes: dict[str, int] = {}
        self.pairs: list[Pair] = []
        self.total = np.zeros(0, _I64)
        self.code = np.zeros(0, _I64)
        self.has_text = np.zeros(0, np.bool_)
        self.container = np.zeros(0, np.bool_)
        self.p_start = np.zeros(0, _I64)
        self.p_n = np.zeros(0, _I64)
        self.sizes = np.zeros(0, _I64)
        self.bg0 = np.zeros(0, np.bool_)
        self.bg = np.zeros(0, np.bool_)
        self.pa = np.zeros(0, _I64)
        self.pb = np.zeros(0, _I64)
        self.h_n = np.zeros(0, _I64)
        self.h_pass = np.zeros(0, _I64)
        self.h_count = np.zeros(0, _I64)
        self.edge = np.zeros(0, np.bool_)  # rule 4 per pair, once the flags are final
        self.c_bg = np.zeros(0, np.float64)
        self.indexed = False  # (`_index` has run)
        if pairs is None:
            pairs = [([p for d, nb in g.adj.items() for p in nb.values() if p.a == d], None)]
        self.sync(pairs)

    # -- building -------------------------------------------------------------------

    def sync(self, batches: list[tuple[list[Pair], PairHits | None]]) -> None:
        """Add the graph's articles not numbered yet, and the pairs of `batches` (new
        to this graph, their ends loaded), each batch with its `PairHits` or None."""
        nodes = self.g.nodes
        new_nodes = (
            [n for i, n in nodes.items() if i not in self.num] if self.num else list(nodes.values())
        )
        if new_nodes:
            self._add_nodes(new_nodes)
        added = False
        for pairs, hits in batches:
            if pairs:
                self._add_pairs(pairs, hits)
                added = True
        if added or new_nodes or not self.indexed:
            self._index()

    def _add_nodes(self, nodes: list[Node]) -> None:
        first, base, n = len(self.names), len(self.sizes), len(nodes)
        names = list(map(_ID, nodes))
        self.names.extend(names)
        self.num.update(zip(names, range(first, first + n), strict=True))
        codes = self.codes
        total = np.fromiter(map(_TOTAL, nodes), _I64, n)
        code = np.fromiter(
            (codes.setdefault(h, len(codes)) for h in map(_HASH, nodes)), _I64, n
        )
        p_n = np.fromiter(map(len, map(_SIZES, nodes)), _I64, n)
        sizes = np.fromiter(chain.from_iterable(map(_SIZES, nodes)), _I64, int(p_n.sum()))
        p_start = base + np.cumsum(p_n) - p_n
        flags = {}
        for attr, get in (("bg0", _BG0), ("bg", _BG)):
            f = flags[attr] = np.zeros(len(sizes), np.bool_)
            some = np.fromiter(map(bool, map(get, nodes)), np.bool_, n)
            for j in np.flatnonzero(some).tolist():
                f[p_start[j] - base + np.array(sorted(get(nodes[j])), _I64)] = True
        self.total = np.concatenate([self.total, total])
        self.code = np.concatenate([self.code, code])
        self.has_text = np.concatenate([self.has_text, total > 0])
        cont = np.fromiter(map(_CONTAINER, nodes), np.bool_, n)
        self.container = np.concatenate([self.container, cont])
        self.p_start = np.concatenate([self.p_start, p_start])
        self.p_n = np.concatenate([self.p_n, p_n])
        self.sizes = np.concatenate([self.sizes, sizes])
        self.bg0 = np.concatenate([self.bg0, flags["bg0"]])
        self.bg = np.concatenate([self.bg, flags["bg"]])

    def _add_pairs(self, pairs: list[Pair], arrays: PairHits | None) -> None:
        first = len(self.pairs)
        for k, p in enumerate(pairs, first):
            p.k = k
        self.pairs.extend(pairs)
        # (C-level iteration over the pairs and their dicts: no Python loop per item)
        at = self.num.__getitem__
        pa = np.fromiter(map(at, map(_A, pairs)), _I64, len(pairs))
        pb = np.fromiter(map(at, map(_B, pairs)), _I64, len(pairs))
        if arrays is not None:
            h_n, h_pass, h_count = arrays
        else:
            hits = [h for p in pairs for h in (p.a_hits, p.b_hits)]
            h_n = np.fromiter(map(len, hits), _I64, len(hits))
            n = int(h_n.sum())
            h_pass = np.fromiter(chain.from_iterable(hits), _I64, n)
            h_count = np.fromiter(chain.from_iterable(map(dict.values, hits)), _I64, n)
        self.pa = np.concatenate([self.pa, pa])
        self.pb = np.concatenate([self.pb, pb])
        self.h_n = np.concatenate([self.h_n, h_n])
        self.h_pass = np.concatenate([self.h_pass, h_pass])
        self.h_count = np.concatenate([self.h_count, h_count])

    def _index(self) -> None:
        """Arrays derived from the lists: hit offsets, matches, sums, rule 1, adjacency."""
        m = len(self.pa)
        self.h_start = np.cumsum(self.h_n) - self.h_n
        side_of = np.repeat(np.arange(2 * m, dtype=_I64), self.h_n)
        ends = np.empty(2 * m, _I64)
        ends[0::2], ends[1::2] = self.pa, self.pb
        at = self.p_start[ends[side_of]] + self.h_pass
        self.h_match = self.h_count >= self.params.passage_match * self.sizes[at]
        self.found = np.bincount(side_of, weights=self.h_count, minlength=2 * m).astype(_I64)
        tot = self.total[ends]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(tot > 0, self.found / np.maximum(tot, 1), 0.0)
        self.copy0 = np.minimum(c[0::2], c[1::2]) >= self.params.copy_threshold
        node = np.concatenate([self.pa, self.pb])
        order = np.argsort(node, kind="stable")
        self.adj_node = np.concatenate([self.pb, self.pa])[order]
        self.adj_pair = np.concatenate([np.arange(m, dtype=_I64)] * 2)[order]
        self.adj_side = np.concatenate([np.zeros(m, _I64), np.ones(m, _I64)])[order]
        self.adj_start = np.searchsorted(node[order], np.arange(len(self.names) + 1, dtype=_I64))
        self.indexed = True

    # -- the rules --------------------------------------------------------------------

    def _ids(self, ids: Iterable[str]) -> np.ndarray:
        """The articles' numbers (in any order: each rule is computed per article)."""
        return np.fromiter(map(self.num.__getitem__, ids), _I64)

    def background(self, ids: Iterable[str], *, skip_containers: bool) -> set[str]:
        """Rule 3 for `ids` (background0, or background with `skip_containers`), into
        the arrays and their `Node`s; returns the ids whose flags changed."""
        d = self._ids(ids)
        flags = self.bg if skip_containers else self.bg0
        before = flags.copy()
        rk.background(
            d, skip_containers, self.params.background_groups, flags,
            self.code, self.has_text, self.container, self.p_start, self.p_n, self.bg0,
            self.h_start, self.h_n, self.h_pass, self.h_match, self.copy0,
            self.adj_start, self.adj_node, self.adj_pair, self.adj_side,
        )  # fmt: skip
        diff = np.flatnonzero(before != flags)
        if not len(diff):
            return set()
        owner = np.searchsorted(self.p_start, diff, side="right") - 1
        # (an article without passages owns none of them: searchsorted lands on the last
        # article starting there, which is the one holding the passage)
        changed = set()
        attr = "background" if skip_containers else "background0"
        for j in np.unique(owner).tolist():
            s = int(self.p_start[j])
            value = frozenset(np.flatnonzero(flags[s : s + self.p_n[j]]).tolist())
            setattr(self.g.nodes[self.names[j]], attr, value)
            changed.add(self.names[j])
        return changed

    def containers(self, ids: Iterable[str]) -> set[str]:
        """Rule 2 for `ids`, into the arrays and their `Node`s; returns those that changed."""
        d = self._ids(ids)
        before = self.container[d].copy()
        bg0_any, bg0_left = rk.skipped(self.bg0, self.p_start, self.p_n, self.sizes)
        rk.containers(
            d, self.container, float(self.params.copy_threshold), float(self.params.contain_threshold),
            self.total, self.code, self.has_text, self.p_start, self.bg0, bg0_any, bg0_left,
            self.found, self.h_start, self.h_n, self.h_pass, self.h_count, self.h_match, self.copy0,
            self.adj_start, self.adj_node, self.adj_pair, self.adj_side,
        )  # fmt: skip
        changed = set()
        for j in d[before != self.container[d]].tolist():
            self.g.nodes[self.names[j]].container = bool(self.container[j])
            changed.add(self.names[j])
        return changed

    def copy_edges(self) -> None:
        """Rule 4 for the pairs numbered since the last call, the flags final: `edge`,
        and `c_bg`, each side's containment with its background left out."""
        done = len(self.edge)
        if done == len(self.pa):
            return
        bg_any, bg_left = rk.skipped(self.bg, self.p_start, self.p_n, self.sizes)
        edge, c_bg = rk.copy_edges(
            done, float(self.params.copy_threshold), self.pa, self.pb,
            self.total, self.code, self.has_text, self.container, self.p_start, self.bg, bg_any, bg_left,
            self.found, self.h_start, self.h_n, self.h_pass, self.h_count,
        )  # fmt: skip
        self.edge = np.concatenate([self.edge, edge])
        self.c_bg = np.concatenate([self.c_bg, c_bg])

    def _mask(self, ids: Iterable[str]) -> np.ndarray:
        mask = np.zeros(len(self.names), np.bool_)
        mask[self._ids(ids)] = True
        return mask

    def _touching(self, inside: np.ndarray) -> np.ndarray:
        """Per pair: whether an end is flagged in `inside`."""
        return inside[self.pa] | inside[self.pb]

    def _ends(self, k: np.ndarray, leave_out: np.ndarray) -> set[str]:
        """The articles at either end of the pairs `k`, those flagged in `leave_out` left out."""
        ends = np.unique(np.concatenate([self.pa[k], self.pb[k]]))
        return set(map(self.names.__getitem__, ends[~leave_out[ends]].tolist()))

    def edge_neighbors(self, ids: Iterable[str], outside: Iterable[str] = ()) -> set[str]:
        """The articles joined to one of `ids` by a copy edge (`copy_edges` first), those
        in `outside` left out."""
        k = np.flatnonzero(self.edge & self._touching(self._mask(ids)))
        return self._ends(k, self._mask(outside))

    def components(self, region: Iterable[str]) -> list[list[str]]:
        """Clusters (rule 5): the components of copy edges and equal texts within
        `region`, each sorted, listed in order of their smallest id (`copy_edges`
        first)."""
        names = sorted(region)
        rank = np.full(len(self.names), -1, _I64)
        rank[self._ids(names)] = np.arange(len(names), dtype=_I64)
        label = rk.components(rank, len(names), self.pa, self.pb, self.edge, self.code, self.has_text)
        order = np.argsort(label, kind="stable")
        cuts = (np.flatnonzero(np.diff(label[order])) + 1).tolist()
        at = order.tolist()
        return [
            [names[i] for i in at[s:e]]
            for s, e in zip([0, *cuts], [*cuts, len(at)], strict=True)
            if e > s
        ]

    def links(
        self, region: Iterable[str], cluster: dict[str, int]
    ) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
        """Containment links of the pairs with an end in `region` (`copy_edges` first):
        d holds contain_threshold of m, more than m holds of d or d is a container, and
        m is in a cluster (`cluster`, numbered) that d is not in. Returns (d, m, m's
        cluster number, C(m|d) with m's background left out), one link per row."""
        inside = self._mask(region)
        cl = np.full(len(self.names), -1, _I64)
        if cluster:
            cl[self._ids(cluster)] = np.fromiter(cluster.values(), _I64, len(cluster))
        k = np.flatnonzero(self._touching(inside))
        hold = float(self.params.contain_threshold)
        ds, ms, cs = [], [], []
        for d_end, m_end, d_side in ((self.pa, self.pb, 0), (self.pb, self.pa, 1)):
            d, m = d_end[k], m_end[k]
            c_m, c_d = self.c_bg[2 * k + 1 - d_side], self.c_bg[2 * k + d_side]
            ok = (
                (cl[m] >= 0) & (cl[d] != cl[m]) & (c_m >= hold) & ((c_m > c_d) | self.container[d])
            )
            ds.append(d[ok])
            ms.append(m[ok])
            cs.append(c_m[ok])
        d, m, c = np.concatenate(ds), np.concatenate(ms), np.concatenate(cs)
        return (
            [self.names[x] for x in d.tolist()],
            [self.names[x] for x in m.tolist()],
            cl[m],
            c,
        )

    def outside(self, region: Iterable[str]) -> set[str]:
        """The neighbours of `region`'s articles that are not in it."""
        inside = self._mask(region)
        return self._ends(np.flatnonzero(self._touching(inside)), inside)

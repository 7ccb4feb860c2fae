"""The compiled rules (`dedup.rule_kernels`, through `dedup.rule_graph.RuleGraph`)
against their reference in Python (`dedup.relations`), on random pair graphs."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import relations as rel
from dedup.params import Params
from dedup.rule_graph import RuleGraph


def random_graph(seed: int) -> rel.Graph:
    """A small dense graph: articles of 0-7 passages (now and then 70, past a bit
    mask's 63), a few shared text hashes, stored flags at random, and pairs sharing
    random counts of random passages: enough to meet every branch of the rules."""
    r = random.Random(seed)
    g = rel.Graph()
    n = r.randint(2, 14)
    for i in range(n):
        p = 70 if r.random() < 0.05 else r.randint(0, 7)
        sizes = [r.randint(0, 12) for _ in range(p)]
        node = rel.Node(
            f"a{i:02d}",
            f"h{r.randint(0, n // 2)}",
            tuple(sizes),
            background0=frozenset(j for j in range(p) if r.random() < 0.15),
            container=r.random() < 0.2,
            background=frozenset(j for j in range(p) if r.random() < 0.15),
        )
        g.nodes[node.id] = node
    ids = sorted(g.nodes)
    density = r.choice([0.3, 0.6, 0.9])
    for x in range(n):
        for y in range(x + 1, n):
            if r.random() > density:
                continue
            a, b = g.nodes[ids[x]], g.nodes[ids[y]]
            hits = []
            for node in (a, b):
                share = r.random()
                hits.append(
                    {
                        j: r.randint(1, s)
                        for j, s in enumerate(node.sizes)
                        if s and r.random() < share
                    }
                )
            g.add_pair(rel.Pair(a.id, b.id, hits[0], hits[1]))
    return g


def flags(g: rel.Graph) -> dict[str, tuple[frozenset[int], bool, frozenset[int]]]:
    return {i: (n.background0, n.container, n.background) for i, n in g.nodes.items()}


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32), st.integers(2, 4), st.sampled_from([0.1, 0.15, 0.3]))
def test_compiled_rules_are_the_reference_rules(seed: int, groups: int, copy_at: float) -> None:
    params = Params(background_groups=groups, copy_threshold=copy_at)
    want, got = random_graph(seed), random_graph(seed)
    r = random.Random(seed + 1)
    # Each pass over a random part of the articles, as a window's recompute does.
    passes = [[i for i in sorted(want.nodes) if r.random() < 0.8] for _ in range(3)]

    for i in passes[0]:
        want.nodes[i].background0 = rel.background_passages(want, i, params, skip_containers=False)
    for i in passes[1]:
        want.nodes[i].container = rel.container_flag(want, i, params)
    for i in passes[2]:
        want.nodes[i].background = rel.background_passages(want, i, params, skip_containers=True)

    before = flags(got)
    rules = RuleGraph(got, params)
    changed = rules.background(passes[0], skip_containers=False)
    changed |= rules.containers(passes[1])
    changed |= rules.background(passes[2], skip_containers=True)
    assert flags(got) == flags(want)
    assert changed == {i for i, f in flags(got).items() if f != before[i]}

    rules.copy_edges()
    for d, neighbors in want.adj.items():
        for p in neighbors.values():
            if p.a != d:
                continue
            q = got.pair(p.a, p.b)
            assert q is not None
            assert rules.edge[q.k] == rel.is_copy_edge(want, p, params)
            c = rel.weighted_containments(want, p)
            assert (rules.c_bg[2 * q.k], rules.c_bg[2 * q.k + 1]) == c

    # Clusters, edge neighbours and links over a random region, as `engine._recompute`
    # said them in Python before.
    region = {i for i in want.nodes if r.random() < 0.7}
    edges = [
        (p.a, p.b)
        for i in region
        for x, p in want.neighbors(i).items()
        if x in region and p.a == i and rel.is_copy_edge(want, p, params)
    ]
    by_hash: dict[str, list[str]] = {}
    for i in sorted(region):
        if want.nodes[i].has_text:
            by_hash.setdefault(want.nodes[i].text_hash, []).append(i)
    edges += [(same[0], x) for same in by_hash.values() for x in same[1:]]
    comps = rel.components(region, edges)
    assert rules.components(region) == comps
    # (the ends of every copy edge touching the region, those in it included)
    joined = [
        {i, x}
        for i in region
        for x, p in want.neighbors(i).items()
        if rel.is_copy_edge(want, p, params)
    ]
    assert rules.edge_neighbors(region) == set().union(*joined)
    assert rules.edge_neighbors(region, region) == set().union(*joined) - region
    cluster_of = {i: c[0] for c in comps for i in c}
    outside = {x for i in region for x in want.neighbors(i)} - region
    assert rules.outside(region) == outside
    cluster_of.update({x: f"old{r.randint(0, 3)}" for x in outside if r.random() < 0.7})
    links = set()
    for i in region:
        for x, p in want.neighbors(i).items():
            for d, m in ((i, x), (x, i)):
                if cluster_of.get(d) == cluster_of.get(m) or m not in cluster_of:
                    continue
                nm, nd = want.nodes[m], want.nodes[d]
                c_m = p.contained(nm, nm.background)
                c_d = p.contained(nd, nd.background)
                if c_m >= params.contain_threshold and (c_m > c_d or nd.container):
                    links.add((d, m, cluster_of[m], c_m))
    names = sorted(set(cluster_of.values()))
    d_ids, m_ids, cl, shares = rules.links(region, {i: names.index(c) for i, c in cluster_of.items()})
    rows = zip(d_ids, m_ids, cl.tolist(), shares.tolist(), strict=True)
    got_links = {(d, m, names[c], s) for d, m, c, s in rows}
    assert len(got_links) == len(d_ids) and got_links == links


def test_pairs_and_articles_loaded_later_are_taken_in() -> None:
    params = Params()
    g = random_graph(7)
    rules = RuleGraph(g, params)
    node = rel.Node("z", "hz", (5, 5))
    g.nodes["z"] = node
    p = rel.Pair("a00", "z", {0: 1}, {0: 5, 1: 5})
    g.add_pair(p)
    rules.sync([([p], None)])
    assert rules.names[rules.num["z"]] == "z" and rules.pairs[p.k] is p
    rules.copy_edges()
    assert len(rules.edge) == len(rules.pairs)
    assert rules.edge[p.k] == rel.is_copy_edge(g, p, params)


def _arrays(rules: RuleGraph) -> dict[tuple[str, str], tuple[list[tuple[int, int]], ...]]:
    """Each numbered pair's hits as the rule arrays hold them, by its ends' ids."""
    at = rules.h_start
    out = {}
    for k, p in enumerate(rules.pairs):
        sides = []
        for s in (2 * k, 2 * k + 1):
            i, e = int(at[s]), int(at[s] + rules.h_n[s])
            sides.append(list(zip(rules.h_pass[i:e].tolist(), rules.h_count[i:e].tolist(), strict=True)))
        out[(p.a, p.b)] = tuple(sides)
    return out


def test_pairs_verified_in_batches_reach_the_rules_as_their_dicts_say() -> None:
    """Pairs verified in batches come with their hits as arrays (`LazyGraph.add_pairs`);
    a batch holding a pair already in the graph, and pairs dropped since, are taken from
    the dicts instead. Either way the rule arrays equal those made from every pair's dicts."""
    import sqlite3

    import numpy as np

    from dedup.engine import LazyGraph
    from dedup.store import DedupStore

    g0 = random_graph(11)
    graph = LazyGraph(DedupStore(sqlite3.connect(":memory:")))
    graph.g.nodes.update(g0.nodes)
    pairs = [p for d, nb in g0.adj.items() for p in nb.values() if p.a == d]
    assert len(pairs) > 8

    def as_arrays(batch: list[rel.Pair]) -> tuple[list[rel.Pair], tuple[np.ndarray, ...]]:
        hits = [h for p in batch for h in (p.a_hits, p.b_hits)]
        arrays = (
            np.array([len(h) for h in hits], dtype=np.int64),
            np.array([i for h in hits for i in h], dtype=np.int64),
            np.array([c for h in hits for c in h.values()], dtype=np.int64),
        )
        at = np.cumsum(arrays[0]) - arrays[0]
        fresh = [rel.Pair(p.a, p.b, source=((*arrays, at), j)) for j, p in enumerate(batch)]
        return fresh, arrays

    for part in (pairs[:4], pairs[4:7], pairs[6:]):  # (the last: one in the graph already)
        graph.add_pairs(*as_arrays(part))
    graph.drop_pair(pairs[5].a, pairs[5].b)
    batches = graph.batches(0)
    assert [hits is not None for _, hits in batches] == [True, False, False]
    got = _arrays(RuleGraph(graph.g, Params(), batches))
    want = _arrays(RuleGraph(graph.g, Params()))
    assert got == want and len(got) == len(pairs) - 1
    assert [len(b) for b, _ in graph.batches(4)] == [2, len(pairs) - 7]

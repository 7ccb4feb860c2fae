"""`newsdedup serve`: every named query's JSON, the cluster page and bad input, through
Datasette's in-process client on a real demo database (crawled over loopback, deduplicated
as it was stored)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import sqlite3
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from crawler.store import Store
from dedup.store import DedupStore
from newsdedup.cli import cli
from newsdedup.datasette import EXAMPLES, datasette_args, datasette_for, example_params, metadata
from tests.crawling import query

QUERIES = {
    "largest_clusters",
    "clusters_by_agency",
    "agency_copy_by_outlet",
    "story_spread",
    "containers",
    "crawl_runs",
    "outlet_health",
    "failures_by_reason",
}


def fetch(db: Path, *paths: str):
    """GET each path from a Datasette on `db` with the project's metadata and plugin."""

    async def run():
        ds = datasette_for(db)
        await ds.invoke_startup()
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(run())


def rows(db: Path, name: str, **params: str) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    (response,) = fetch(db, f"/{db.stem}/{name}.json?_shape=array&{qs}")
    assert response.status_code == 200, response.text[:2000]
    return response.json()


def dicts(db: Path, sql: str, params: tuple = ()) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def members_by_cluster(db: Path) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in dicts(
        db,
        "SELECT m.*, a.outlet, a.published, a.agencies FROM cluster_members m "
        "JOIN articles a ON a.id = m.article_id",
    ):
        out[r["cluster_id"]].append(r)
    return out


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value)


# -- the named queries ---------------------------------------------------------------------


def test_the_metadata_holds_every_named_query_and_none_writes():
    queries = metadata()["databases"]["news"]["queries"]
    assert set(queries) == QUERIES
    for name, q in queries.items():
        assert not q.get("write"), name
        assert q["title"] and q["description"], name
        assert set(EXAMPLES.get(name, {})) <= set(q["params"]), name


def test_every_named_query_answers_on_the_demo_database(demo_db):
    cluster = query(demo_db, "SELECT cluster_id FROM clusters ORDER BY size DESC, cluster_id")[0][0]
    for name in sorted(QUERIES):
        got = rows(demo_db, name, **example_params(name, cluster_id=cluster))
        if name != "failures_by_reason":  # the demo crawl fails nowhere
            assert got, name


def test_largest_clusters_counts_the_copies_in_the_window(demo_db):
    by_cluster = members_by_cluster(demo_db)
    got = rows(demo_db, "largest_clusters")
    assert {r["cluster_id"] for r in got} == {c for c, m in by_cluster.items() if len(m) >= 2}
    for r in got:
        assert r["size"] == r["copies_in_window"] == len(by_cluster[r["cluster_id"]])
        assert r["outlets"] == len({m["outlet"] for m in by_cluster[r["cluster_id"]]})
    assert [r["copies_in_window"] for r in got] == sorted((r["copies_in_window"] for r in got), reverse=True)

    # A window: only the copies published in it count (times compared as stored).
    stamps = sorted(m["published"] for ms in by_cluster.values() if len(ms) > 1 for m in ms)
    since, until = stamps[len(stamps) // 3], stamps[2 * len(stamps) // 3]
    want = Counter(
        c for c, ms in by_cluster.items() if len(ms) > 1 for m in ms if since <= m["published"] < until
    )
    got = rows(demo_db, "largest_clusters", since=since, until=until)
    assert {r["cluster_id"]: r["copies_in_window"] for r in got} == dict(want)
    assert rows(demo_db, "largest_clusters", min_size="3")
    assert all(r["size"] >= 3 for r in rows(demo_db, "largest_clusters", min_size="3"))


def test_clusters_by_agency_matches_credits_case_insensitively(demo_db):
    by_cluster = members_by_cluster(demo_db)
    for agency in ("AFP", "dpa", "Reuters"):
        want = {
            c: sum(agency in json.loads(m["agencies"]) for m in ms)
            for c, ms in by_cluster.items()
            if len(ms) > 1 and any(agency in json.loads(m["agencies"]) for m in ms)
        }
        got = rows(demo_db, "clusters_by_agency", agency=agency)
        assert {r["cluster_id"]: r["crediting"] for r in got} == want, agency
        assert rows(demo_db, "clusters_by_agency", agency=agency.lower()) == got
    assert rows(demo_db, "clusters_by_agency", agency="nobody") == []
    anyone = rows(demo_db, "clusters_by_agency", agency="")
    assert {r["cluster_id"] for r in anyone} == {
        c for c, ms in by_cluster.items() if len(ms) > 1 and any(json.loads(m["agencies"]) for m in ms)
    }


def test_agency_copy_by_outlet_shares(demo_db):
    by_cluster = members_by_cluster(demo_db)
    copies: dict[str, list[float]] = defaultdict(list)
    articles = Counter(o for (o,) in query(demo_db, "SELECT outlet FROM articles"))
    for ms in by_cluster.values():
        for m in ms:
            if len(ms) > 1 and not m["is_container"]:
                copies[m["outlet"]].append(m["share"])
    got = {r["outlet"]: r for r in rows(demo_db, "agency_copy_by_outlet")}
    assert set(got) == set(articles)
    for outlet, r in got.items():
        assert r["articles"] == articles[outlet]
        assert r["copies"] == len(copies[outlet])
        assert r["copy_share"] == round(len(copies[outlet]) / articles[outlet], 3)
        if copies[outlet]:
            assert r["mean_shared_share"] == round(sum(copies[outlet]) / len(copies[outlet]), 3)
    assert 0 < sum(r["copies"] for r in got.values()) < sum(articles.values())


def test_story_spread_orders_copies_and_measures_the_delay(demo_db):
    by_cluster = members_by_cluster(demo_db)
    cluster, ms = max(by_cluster.items(), key=lambda kv: (len(kv[1]), kv[0]))
    got = rows(demo_db, "story_spread", cluster_id=cluster)
    times = sorted(utc(m["published"]) for m in ms)
    assert [utc(r["published"]) for r in got] == times
    assert [r["delay_minutes"] for r in got] == [round((t - times[0]).total_seconds() / 60) for t in times]
    assert got[0]["delay_minutes"] == 0 and got[-1]["delay_minutes"] > 0
    assert sum(r["is_representative"] for r in got) == 1
    assert rows(demo_db, "story_spread", cluster_id="0000000000000000") == []


def test_containers_and_what_they_quote(demo_db):
    links = dicts(demo_db, "SELECT * FROM dedup_contains")
    assert links, "the demo newsroom has a live ticker quoting stories"
    want = defaultdict(list)
    for link in links:
        want[(link["container_id"], link["cluster_id"])].append(link["share"])
    got = rows(demo_db, "containers")
    assert {(r["container_id"], r["cluster_id"]): r["copies_quoted"] for r in got} == {
        k: len(v) for k, v in want.items()
    }
    for r in got:
        assert r["share"] == round(max(want[(r["container_id"], r["cluster_id"])]), 3)
        assert r["quoted_story"]
    one = got[0]["cluster_id"]
    assert {r["cluster_id"] for r in rows(demo_db, "containers", cluster_id=one)} == {one}


def test_crawl_runs_and_outlet_health_on_the_demo_crawl(demo_db):
    (run,) = rows(demo_db, "crawl_runs")
    assert run["status"] == "ok" and run["stored"] == query(demo_db, "SELECT COUNT(*) FROM articles")[0][0]
    assert run["seconds"] >= 0
    health = rows(demo_db, "outlet_health")
    assert sum(r["found"] for r in health) == run["discovered"]
    assert sum(r["stored"] for r in health) == run["stored"]
    assert all(r["failures_by_reason"] is None and r["runs"] == 1 for r in health)


def test_outlet_health_and_failures_by_reason_count_failures(demo_db, tmp_path):
    db = tmp_path / "news.db"
    shutil.copy(demo_db, db)
    with Store(db) as store:  # a second run in which one outlet fails, written as a crawl writes it
        run = store.start_run(command="crawl", since="6h", outlets=1)
        urls = [f"https://bad.example/{i}" for i in range(4)]
        reasons = ["timeout", "timeout", "http_404", "http_404"]
        store.log_fetches(
            {"run_id": run, "time": "2026-01-01T00:00:00+00:00", "outlet": "bad-outlet", "url": u,
             "kind": "article", "status": 404 if r == "http_404" else None, "outcome": "failed",
             "reason": r, "detail": "x"}
            for u, r in zip(urls, reasons, strict=True)
        )
        store.finish_run(run, status="failed", per_outlet={"bad-outlet": {
            "discovered": 5, "fetched": 4, "stored": 1, "failed": 4,
            "failed_by_reason": {"timeout": 2, "http_404": 2}}})
    runs = rows(db, "crawl_runs")
    assert [r["id"] for r in runs] == [run, run - 1] and runs[0]["status"] == "failed"
    assert rows(db, "crawl_runs", runs="1") == runs[:1]
    health = rows(db, "outlet_health", runs="1")
    assert health == [{
        "outlet": "bad-outlet", "runs": 1, "last_run": run, "found": 5, "fetched": 4, "stored": 1,
        "skipped": 0, "failed": 4, "stored_share": 0.2, "failures_by_reason": "http_404: 2, timeout: 2",
    }]
    assert len(rows(db, "outlet_health")) == len(rows(demo_db, "outlet_health")) + 1
    failures = rows(db, "failures_by_reason")
    assert sorted((r["reason"], r["failures"]) for r in failures) == [("http_404", 2), ("timeout", 2)]
    assert rows(db, "failures_by_reason", outlet="elbe-kurier") == []


# -- pages -----------------------------------------------------------------------------------


def test_cluster_ids_link_to_their_page_everywhere(demo_db):
    cluster = query(demo_db, "SELECT cluster_id FROM clusters WHERE size > 1 LIMIT 1")[0][0]
    link = f'href="/demo/-/cluster/{cluster}"'
    for path in ("/demo/largest_clusters", f"/demo/clusters/{cluster}", "/demo/cluster_members",
                 f"/demo/story_spread?cluster_id={cluster}", "/demo/containers",
                 "/demo/clusters_by_agency?agency="):
        (page,) = fetch(demo_db, path)
        assert page.status_code == 200, path
        if "containers" not in path or cluster in page.text:
            assert link in page.text, path
    # The clusters table links a cluster id (its primary key) to its row, and the row to the page.
    (page,) = fetch(demo_db, "/demo/clusters?size__gt=1")
    assert f'href="/demo/clusters/{cluster}"' in page.text


def test_articles_table_has_the_facets_and_full_text_search(demo_db):
    (page,) = fetch(demo_db, "/demo/articles.json?_search=Sturm&_facet_size=50")
    data = page.json()
    assert data["rows"], "full-text search finds the storm stories"
    facets = data["facet_results"]
    assert {"outlet", "agencies", "language", "published"} <= set(facets)
    agencies = {v["value"] for v in facets["agencies"]["results"]}
    assert "dpa" in agencies  # an array facet: one value per credited agency, not per JSON list


def test_cluster_page_shows_members_in_order_with_highlights_and_timeline(demo_db):
    cid, size = query(
        demo_db, "SELECT cluster_id, size FROM clusters WHERE containers > 0 ORDER BY size DESC LIMIT 1"
    )[0]
    (page,) = fetch(demo_db, f"/demo/-/cluster/{cid}")
    assert page.status_code == 200
    html = page.text
    ms = dicts(demo_db, "SELECT a.id, a.published FROM cluster_members m JOIN articles a "
                        "ON a.id = m.article_id WHERE m.cluster_id = ?", (cid,))
    order = [m["id"] for m in sorted(ms, key=lambda m: utc(m["published"]))]
    rows_order = [chunk.split('"', 1)[0] for chunk in html.split('<tr class="nd-member" data-article="')[1:]]
    assert rows_order == order
    assert html.count('class="tl-dot') == size
    assert '<mark class="shared">' in html
    assert ">first<" in html and "+" in html.split('class="num nd-delay">')[2][:12]
    containers = query(
        demo_db, "SELECT DISTINCT container_id FROM dedup_contains WHERE cluster_id = ?", (cid,)
    )
    assert containers
    for (container,) in containers:
        assert f'<li data-article="{container}">' in html


def test_unknown_cluster_is_a_clear_404_page(demo_db):
    for cid in ("0123456789abcdef", "not-an-id", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"):
        (page,) = fetch(demo_db, f"/demo/-/cluster/{cid}")
        assert page.status_code == 404
        assert "Unknown cluster" in page.text and "largest_clusters" in page.text
        problem = page.text.split('class="message-error nd-problem">')[1].split("</p>")[0]
        assert "<script>" not in problem and "Traceback" not in page.text
    (page,) = fetch(demo_db, "/nosuchdb/-/cluster/0123456789abcdef")
    assert page.status_code == 404


def test_database_before_dedup_and_empty_databases_get_clear_pages(tmp_path):
    crawled = tmp_path / "crawled.db"  # articles, no dedup tables
    with Store(crawled) as store:
        store.upsert_article({"url": "https://x.example/a", "outlet": "x", "title": "A", "text": "Text."})
    empty = tmp_path / "empty.db"  # an SQLite file with no tables at all
    sqlite3.connect(empty).close()
    fresh = tmp_path / "fresh.db"  # every table, no rows
    with Store(fresh) as store:
        DedupStore(store.conn).ensure_schema()

    for db, says in ((crawled, "has not been deduplicated yet"), (empty, "holds no newsdedup articles")):
        name = db.stem
        cluster, query_page, database_page = fetch(
            db, f"/{name}/-/cluster/0123456789abcdef", f"/{name}/largest_clusters", f"/{name}"
        )
        assert cluster.status_code == 404 and says in cluster.text, cluster.text[-1500:]
        assert says in query_page.text and "Traceback" not in query_page.text
        assert says in database_page.text and database_page.status_code == 200
        assert f"newsdedup {'dedup' if db is crawled else 'crawl'} --db {db.name}" in cluster.text

    assert rows(fresh, "largest_clusters") == []
    (page,) = fetch(fresh, "/fresh/-/cluster/0123456789abcdef")
    assert page.status_code == 404 and "holds no clusters yet" in page.text
    (page,) = fetch(fresh, "/fresh")
    assert "nd-problem" not in page.text


def test_visitors_cannot_write(demo_db):
    before = query(demo_db, "SELECT COUNT(*) FROM articles")
    page, = fetch(demo_db, "/demo.json?sql=DELETE+FROM+articles")
    assert page.status_code == 400
    assert query(demo_db, "SELECT COUNT(*) FROM articles") == before


# -- the command ---------------------------------------------------------------------------


def test_serve_help_and_the_equivalent_datasette_command(demo_db):
    out = CliRunner().invoke(cli, ["serve", "--help"])
    assert out.exit_code == 0 and "Example:" in out.output
    out = CliRunner().invoke(cli, ["serve", "--db", "news.db", "--print-command"])
    assert out.exit_code == 0
    words = out.output.split()
    assert words[:2] == ["datasette", "news.db"]
    assert {"--metadata", "--plugins-dir", "--template-dir"} <= set(words)
    for flag in ("--metadata", "--plugins-dir", "--template-dir"):
        assert Path(words[words.index(flag) + 1]).exists()


def test_serve_bad_files_are_one_clear_line(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    for db, says in ((tmp_path / "nope.db", "no such database"), (junk, "not a SQLite database"),
                     (tmp_path, "not a file")):
        out = CliRunner().invoke(cli, ["serve", "--db", str(db)])
        assert out.exit_code == 1, out.output
        assert says in out.output and len(out.output.strip().splitlines()) == 1, out.output


def test_serve_on_a_port_in_use_is_one_clear_line(tmp_path):
    db = tmp_path / "news.db"
    with Store(db):
        pass
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = CliRunner().invoke(cli, ["serve", "--db", str(db), "--port", str(port)])
    assert out.exit_code == 1, out.output
    assert out.output.strip() == (
        f"Error: cannot listen on 127.0.0.1:{port} (Address already in use); pass another --port"
    )


def test_the_readme_datasette_command_names_the_installed_files():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```\ndatasette news.db", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    words = ["datasette", "news.db", *block.split()]
    root = Path(__file__).resolve().parent.parent
    args = datasette_args("news.db")
    for flag, long in (("-m", "--metadata"), ("--plugins-dir", "--plugins-dir"),
                       ("--template-dir", "--template-dir")):
        documented = root / words[words.index(flag) + 1]
        assert documented == Path(args[args.index(long) + 1]), flag
    assert " ".join(words[words.index("--setting"):]) == " ".join(args[args.index("--setting"):])


def test_the_queries_that_read_every_article_use_the_covering_index(demo_db):
    queries = metadata()["databases"]["news"]["queries"]
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        for name in ("largest_clusters", "clusters_by_agency", "agency_copy_by_outlet"):
            sql = queries[name]["sql"]
            params = dict.fromkeys(queries[name]["params"], "")
            plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
            # Reading articles from the table would walk each row's text (overflow pages).
            assert "COVERING INDEX idx_articles_serve" in plan, (name, plan)
    finally:
        conn.close()

"""Benchmark of `newsdedup serve`: every named query and the cluster page on a large database.

Builds (once, then reuses) a database of synthetic articles from bench/gen_corpus.py
(planted copies, tickers) plus one story planted in 50 outlets, credited agencies and
a language on every article, and a crawl history (runs, per-outlet counts, a fetch log
with failures), clusters it with `dedup.update`, then times each named query with its
example parameters and the cluster page of the 50-member cluster through Datasette's
in-process client (server time: request in, response out, no network).

Usage:
    python bench/serve_bench.py --articles 100000            # build + time
    python bench/serve_bench.py --articles 100000 --repeat 5 # best of 5 per request
    python bench/serve_bench.py --db copy.db                  # measure a database as it is
The database is kept in --workdir (default: the temp directory) and reused by later runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_corpus import OUTLETS, Corpus, generate  # noqa: E402

PLANTED = 50  # members of the planted story, one per outlet
AGENCIES = [[], ["dpa"], ["dpa"], ["AFP"], ["Reuters"], ["dpa", "AFP"], []]
REASONS = ["timeout", "http_404", "http_503", "not_article", "too_large"]


def _articles(n: int):
    """n - PLANTED corpus articles, then the planted story; agencies and language added."""
    r = random.Random(11)
    for row in islice(generate(n - PLANTED), n - PLANTED):
        row["agencies"] = r.choice(AGENCIES)
        row["language"] = "de"
        yield row
    c = Corpus(seed=99)
    paras = c.story()
    title = "Geplante Geschichte " + c.sentence(5)
    start = datetime(2025, 1, 20, 6, 0, tzinfo=UTC)
    for i in range(PLANTED):
        body = "\n\n".join(paras if i == 0 else c.version(paras))
        outlet = OUTLETS[i % len(OUTLETS)]
        yield {
            "url": f"https://{outlet}.example/planted/{i:03d}.html",
            "outlet": outlet,
            "title": title,
            "text": body,
            "published": (start + timedelta(minutes=7 * i)).isoformat(),
            "agencies": ["dpa"],
            "language": "de",
        }


def _crawl_history(store, runs: int, n_log: int) -> None:
    """Runs with per-outlet counts and a fetch log, as a month of hourly crawls leaves."""
    r = random.Random(5)
    per_run = max(1, n_log // runs)
    for run in range(runs):
        run_id = store.start_run(command="crawl", since="48h", outlets=len(OUTLETS))
        per_outlet: dict[str, dict] = {}
        log = []
        for j in range(per_run):
            outlet = r.choice(OUTLETS)
            failed = r.random() < 0.05
            reason = r.choice(REASONS) if failed else None
            c = per_outlet.setdefault(
                outlet, {"discovered": 0, "fetched": 0, "stored": 0, "failed": 0, "failed_by_reason": {}}
            )
            c["discovered"] += 1
            c["fetched"] += 1
            if failed:
                c["failed"] += 1
                c["failed_by_reason"][reason] = c["failed_by_reason"].get(reason, 0) + 1
            else:
                c["stored"] += 1
            log.append(
                {
                    "run_id": run_id,
                    "time": (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=run)).isoformat(),
                    "outlet": outlet,
                    "url": f"https://{outlet}.example/run{run}/{j}.html",
                    "kind": "article",
                    "status": 404 if reason == "http_404" else 200,
                    "outcome": "failed" if failed else "stored",
                    "reason": reason,
                    "detail": None,
                }
            )
        store.log_fetches(log)
        store.finish_run(run_id, status="ok", per_outlet=per_outlet, requests=per_run)


def build(db: Path, n: int) -> dict:
    import dedup
    from crawler.store import Store

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    t = time.perf_counter()
    with Store(db) as store:
        store.upsert_articles(_articles(n))
        _crawl_history(store, runs=720, n_log=n)
    stored_s = time.perf_counter() - t
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    t = time.perf_counter()
    summary = dedup.update(conn)
    dedup_s = time.perf_counter() - t
    conn.execute("CREATE TABLE IF NOT EXISTS serve_bench (key TEXT PRIMARY KEY, value TEXT)")
    info = {"articles": n, "store_s": round(stored_s, 1), "dedup_s": round(dedup_s, 1), **summary}
    conn.execute("INSERT OR REPLACE INTO serve_bench VALUES ('build', ?)", [json.dumps(info)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return info


def built(db: Path, n: int) -> dict | None:
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM serve_bench WHERE key = 'build'").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    info = json.loads(row[0]) if row else None
    return info if info and info["articles"] == n else None


async def _time(client, path: str, repeat: int) -> tuple[float, int, int]:
    """Best and median wall time of GET path; status; rows (JSON) or bytes (HTML)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = await client.get(path)
        times.append(time.perf_counter() - t)
    size = len(response.json()) if path.split("?")[0].endswith(".json") else len(response.text)
    return min(times), statistics.median(times), response.status_code, size


async def measure(db: Path, repeat: int) -> list[dict]:
    from newsdedup.datasette import datasette_for, example_params

    ds = datasette_for(db)
    await ds.invoke_startup()
    name = db.stem
    queries = await ds.get_canned_queries(name, None)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    planted = conn.execute(
        "SELECT m.cluster_id, COUNT(*) FROM cluster_members m JOIN articles a ON a.id = m.article_id "
        "WHERE a.url LIKE '%/planted/%' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone() or conn.execute(  # not indexed yet (a partly deduplicated --db): the largest
        "SELECT cluster_id, size FROM clusters ORDER BY size DESC LIMIT 1"
    ).fetchone()
    size = conn.execute("SELECT size FROM clusters WHERE cluster_id = ?", [planted[0]]).fetchone()[0]
    conn.close()
    paths = []
    for q in sorted(queries):
        params = example_params(q, cluster_id=planted[0])
        qs = "&".join(f"{k}={v}" for k, v in params.items())
        paths.append((q, f"/{name}/{q}.json?_shape=array&{qs}"))
    # The same queries over a two-day window, as "what ran everywhere today" asks them.
    window = "since=2025-01-20&until=2025-01-22"
    for q in ("largest_clusters", "clusters_by_agency", "agency_copy_by_outlet", "containers"):
        agency = "&agency=dpa" if q == "clusters_by_agency" else ""
        paths.append((f"{q} (2-day window)", f"/{name}/{q}.json?_shape=array&{window}{agency}"))
    # The articles table with its four default facets, and a full-text search.
    paths.append(("articles table page with facets", f"/{name}/articles"))
    # A selective term (the planted story's title word) and one in most articles of the
    # synthetic vocabulary: the latter sorts ~80% of the table by date.
    paths.append(("articles search, 50 hits", f"/{name}/articles.json?_search=geplante&_shape=array"))
    paths.append(("articles search, ~80% of articles", f"/{name}/articles.json?_search=markt&_shape=array"))
    paths.append((f"cluster page ({size} members)", f"/{name}/-/cluster/{planted[0]}"))
    out = []
    for label, path in paths:
        best, median, status, rows = await _time(ds.client, path, repeat)
        out.append(
            {"request": label, "best_ms": round(best * 1000, 1), "median_ms": round(median * 1000, 1),
             "status": status, "rows_or_bytes": rows, "path": path}
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="build the database even if one is there")
    ap.add_argument("--db", help="measure this database as it is (e.g. a copy of one still being built)")
    args = ap.parse_args()
    if args.db:
        db = Path(args.db)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        counts = {
            k: conn.execute(q).fetchone()[0]
            for k, q in {
                "articles": "SELECT COUNT(*) FROM articles",
                "indexed": "SELECT COUNT(*) FROM dedup_signatures",
                "clusters": "SELECT COUNT(*) FROM clusters",
                "multi_clusters": "SELECT COUNT(*) FROM clusters WHERE size > 1",
                "largest": "SELECT MAX(size) FROM clusters",
                "fetch_log": "SELECT COUNT(*) FROM fetch_log",
            }.items()
        }
        conn.close()
        print(json.dumps({"database": str(db), **counts}))
        for row in asyncio.run(measure(db, args.repeat)):
            print(json.dumps(row))
        return
    db = Path(args.workdir) / f"serve_bench_{args.articles}.db"
    info = None if args.rebuild else built(db, args.articles)
    if info is None:
        print(f"building {db} ...", file=sys.stderr)
        info = build(db, args.articles)
    from crawler.store import Store

    with Store(db):  # as the next crawl would: indexes the schema gained since the build
        pass
    print(json.dumps({"database": str(db), **info}))
    for row in asyncio.run(measure(db, args.repeat)):
        print(json.dumps(row))


if __name__ == "__main__":
    main()

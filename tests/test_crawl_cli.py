"""The crawl's command line and its small pure parts: the window, Retry-After, the store,
the lock, progress, and the docs (every command has help with an example and is in the
README)."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from crawler.middlewares import retry_after_seconds
from crawler.progress import render_counts
from crawler.runlog import OutletCounts
from crawler.spiders.outlets import parse_since
from crawler.store import PAGE_SIZE, Store, article_id
from newsdedup.cli import cli
from tests.crawling import ROOT, lock_held_elsewhere, newsdedup, query

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, NOW - timedelta(hours=48)),
        ("6h", NOW - timedelta(hours=6)),
        ("2d", NOW - timedelta(days=2)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2025-03-10", datetime(2025, 3, 10, tzinfo=UTC)),
        ("2025-03-10T08:00:00+01:00", datetime(2025, 3, 10, 7, tzinfo=UTC)),
    ],
)
def test_since_window(value, expected):
    assert parse_since(value, default_hours=48, now=NOW) == expected


def test_since_window_rejects_nonsense():
    with pytest.raises(ValueError, match="give a duration such as 6h"):
        parse_since("gestern", default_hours=48)


def test_retry_after_header_forms():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Fri, 14 Mar 2025 12:01:00 GMT", now=NOW.timestamp()) == 60
    assert retry_after_seconds("Fri, 14 Mar 2025 11:00:00 GMT", now=NOW.timestamp()) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_store_is_idempotent_and_searchable(tmp_path):
    db = tmp_path / "news.db"
    row = {"url": "https://example.org/a.html", "outlet": "x", "title": "Sturm über Hamburg",
           "text": "Orkanböen legen den Bahnverkehr lahm.", "agencies": ["dpa"]}
    with Store(db) as store:
        store.upsert_articles([row])
        store.upsert_articles([{**row, "title": "Sturm über Hamburg: Bahn stoppt Fernverkehr"}])
        assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    rows = query(db, "SELECT id, title, agencies FROM articles")
    assert rows == [(article_id(row["url"]), "Sturm über Hamburg: Bahn stoppt Fernverkehr",
                     '["dpa"]')]
    hits = query(db, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'Fernverkehr'")
    assert len(hits) == 1
    assert query(db, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'Orkanböen'") \
        == [(1,)]


def test_new_database_gets_the_larger_page_size_and_an_old_one_keeps_its_own(tmp_path):
    with Store(tmp_path / "new.db") as store:
        store.upsert_articles([{"url": "https://example.org/a.html", "outlet": "x", "text": "t"}])
    assert query(tmp_path / "new.db", "PRAGMA page_size") == [(PAGE_SIZE,)]
    assert PAGE_SIZE > 4096
    # A database made elsewhere with SQLite's default is opened and written as it is.
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with Store(old) as store:
        store.upsert_articles([{"url": "https://example.org/b.html", "outlet": "x", "text": "t"}])
    assert query(old, "PRAGMA page_size") == [(4096,)]
    assert query(old, "SELECT count(*) FROM articles") == [(1,)]


def test_progress_table_lists_busiest_outlets_and_totals():
    counts = {"a": OutletCounts(discovered=3, fetched=2, stored=2),
              "bb": OutletCounts(discovered=9, fetched=7, stored=5),
              "c": OutletCounts()}
    counts["bb"].failed["http_404"] = 2
    lines = render_counts(counts, limit=2)
    assert lines[1].split() == ["bb", "9", "7", "5", "0", "2"]
    assert lines[2].split()[0] == "a"
    assert lines[-2] == "... 1 more outlets"
    assert lines[-1].split() == ["total", "12", "9", "7", "0", "2"]


def test_crawl_reports_user_mistakes_in_one_line(tmp_path):
    runner = CliRunner()
    seeds = tmp_path / "outlets.toml"
    seeds.write_text('[[outlet]]\nid = "x"\nname = "X"\ncountry = "DE"\nlanguage = "de"\n'
                     'feeds = ["htp://x.example/feed"]\n', encoding="utf-8")
    result = runner.invoke(cli, ["crawl", "--db", str(tmp_path / "n.db"), "--seeds", str(seeds)])
    assert result.exit_code == 1
    assert f"{seeds}:6" in result.output and "feeds[0]" in result.output
    assert "Traceback" not in result.output

    good = tmp_path / "good.toml"
    good.write_text(seeds.read_text().replace("htp://", "http://"), encoding="utf-8")
    result = runner.invoke(cli, ["crawl", "--db", str(tmp_path / "n.db"), "--seeds", str(good),
                                 "--outlet", "nope"])
    assert result.exit_code == 1 and "unknown outlet id(s): nope" in result.output
    result = runner.invoke(cli, ["crawl", "--db", str(tmp_path / "n.db"), "--seeds", str(good),
                                 "--since", "gestern"])
    assert result.exit_code == 1 and "--since 'gestern'" in result.output
    result = runner.invoke(cli, ["crawl", "--seeds", str(good), "-s", "DOWNLOAD_DELAY"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
    assert not (tmp_path / "n.db").exists()


def test_a_file_that_is_no_database_is_one_line_in_every_command(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database, just bytes " * 100)
    seeds = tmp_path / "outlets.toml"
    seeds.write_text('[[outlet]]\nid = "x"\nname = "X"\ncountry = "DE"\nlanguage = "de"\n'
                     'homepage = "http://127.0.0.1:9/"\n', encoding="utf-8")
    texts = tmp_path / "docs.jsonl"
    texts.write_text('{"url": "https://x.example/a", "text": "Ein Text."}\n', encoding="utf-8")
    commands = [
        ["crawl", "--seeds", str(seeds), "--no-warc"],
        ["ingest", "--texts", str(texts)],
        ["dedup"],
        ["clusters"],
        ["stats"],
        ["export", str(tmp_path / "out.jsonl")],
    ]
    for args in commands:
        result = newsdedup(args[0], "--db", str(junk), *args[1:], timeout=60)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.strip().splitlines() == [
            f"Error: {junk}: not a usable SQLite database (file is not a database)"
        ], (args, result.stderr)
    assert junk.read_bytes() == b"not a database, just bytes " * 100  # left as it was

    result = newsdedup("crawl", "--db", str(tmp_path / "nowhere" / "n.db"), "--seeds", str(seeds))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: {tmp_path}/nowhere/n.db: there is no directory {tmp_path}/nowhere"
    )


def test_crawl_exits_75_while_another_process_holds_the_database(tmp_path):
    db = tmp_path / "news.db"
    with lock_held_elsewhere(db) as pid:
        started = time.monotonic()
        result = newsdedup("crawl", "--db", str(db), "--seeds", str(ROOT / "seeds/outlets.toml"))
        assert result.returncode == 75
        assert f"pid {pid}" in result.stderr and "exits without crawling" in result.stderr
        assert time.monotonic() - started < 20


def test_stats_reads_runs_and_articles(tmp_path):
    db = tmp_path / "news.db"
    with Store(db) as store:
        store.upsert_outlets([{"id": "x", "name": "X"}])
        run = store.start_run(command="crawl", since=None, outlets=1)
        store.upsert_articles([{"url": "https://x.example/1", "outlet": "x", "title": "T",
                                "text": "t", "published": "2025-03-14T10:00:00+01:00"}])
        store.finish_run(run, status="ok", per_outlet={"x": {"stored": 1}}, requests=3)
    result = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 articles" in result.output
    assert "run 1:      1      0" in result.output
    assert "#1 " in result.output and "ok" in result.output
    missing = CliRunner().invoke(cli, ["stats", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "no such database" in missing.output


def test_every_command_has_help_with_an_example_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output, f"`newsdedup {name} --help` has no example"
        assert f"newsdedup {name}" in readme, f"README does not mention `newsdedup {name}`"


def test_finished_run_row_has_per_outlet_reasons(tmp_path):
    db = tmp_path / "news.db"
    with Store(db) as store:
        run = store.start_run(command="crawl", since=None, outlets=2)
        counts = OutletCounts(discovered=4, fetched=3, stored=2)
        counts.skipped["known"] = 1
        counts.failed["http_404"] = 1
        totals = store.finish_run(run, status="ok", per_outlet={"a": counts.as_row(), "b": {}})
    assert totals == {"discovered": 4, "fetched": 3, "stored": 2, "skipped": 1, "failed": 1}
    rows = query(db, "SELECT outlet, skipped_by_reason, failed_by_reason FROM crawl_run_outlets "
                     "ORDER BY outlet")
    assert [(o, json.loads(s), json.loads(f)) for o, s, f in rows] == [
        ("a", {"known": 1}, {"http_404": 1}), ("b", {}, {})]

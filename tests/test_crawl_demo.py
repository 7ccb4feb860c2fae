"""End-to-end crawls of the demo newsroom over loopback: what is stored, what is never
fetched, the conditional second run, the run lock and a SIGKILL mid-crawl."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from crawler.demo.server import serve_newsroom
from crawler.demo.site import build_newsroom
from tests.crawling import FAST, ROOT, newsdedup, query

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def running():
    with serve_newsroom(build_newsroom(NOW)) as running:
        yield running


def crawl(running, tmp_path, db, *extra):
    seeds = running.write_seeds(tmp_path / "demo-outlets.toml")
    return newsdedup("crawl", "--db", str(db), "--seeds", str(seeds), *FAST, *extra)


def stored_urls(db):
    return {u for (u,) in query(db, "SELECT url FROM articles")}


def test_demo_command_crawls_the_newsroom(tmp_path):
    db = tmp_path / "demo.db"
    expected = len(build_newsroom(NOW).expected.articles)
    for _ in range(2):  # a second demo replaces the first one's database
        result = newsdedup("demo", "--db", str(db))
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"{expected} stored" in result.stdout
        assert query(db, "SELECT count(*) FROM articles") == [(expected,)]
    assert "newsdedup stats --db" in result.stdout
    # Its WARC goes with the database: the second demo replaced the first one's file.
    (warc,) = (tmp_path / "demo-warc").iterdir()
    assert warc.name.startswith("newsdedup-") and warc.name.endswith(".warc.gz")
    assert "TDM opt-out: spree-depesche (robots.txt disallows GPTBot" in result.stdout


def test_demo_refuses_a_database_of_real_crawls(tmp_path, running):
    db = tmp_path / "news.db"
    assert crawl(running, tmp_path, db).returncode == 0
    result = newsdedup("demo", "--db", str(db))
    assert result.returncode == 1
    assert "holds data from other runs than the demo" in result.stderr
    assert query(db, "SELECT count(*) FROM articles")[0][0] > 0


def test_crawl_stores_exactly_the_articles_then_reads_only_what_changed(tmp_path, running):
    db = tmp_path / "news.db"
    truth = running.newsroom.expected
    bases = running.outlets
    running.reset_requests()
    first = crawl(running, tmp_path, db)
    assert first.returncode == 0, first.stderr[-3000:]

    assert stored_urls(db) == set(truth.article_urls(bases))
    requested = set(running.requests)
    never = truth.must_not_fetch(bases)
    assert never, "the newsroom has old and disallowed pages"
    assert not requested & set(never)
    for alias in truth.aliases:  # tracking-parameter URLs are canonicalized before fetching
        assert not any(u.endswith(alias) for u in requested)
    assert not stored_urls(db) & truth.not_articles(bases)
    assert query(db, "SELECT count(*) = count(DISTINCT url) FROM articles") == [(1,)]

    # Second run over the unchanged newsroom: conditional GET, no article fetched again.
    running.reset_requests()
    second = crawl(running, tmp_path, db)
    assert second.returncode == 0, second.stderr[-3000:]
    articles = set(truth.article_urls(bases))
    assert not set(running.requests) & articles
    # Feeds and sitemaps; /.well-known/tdmrep.json is the TDM probe, read on every run.
    listings = {u: s for (u, s) in running.statuses
                if u.endswith((".xml", ".json", ".gz")) and "/.well-known/" not in u}
    assert listings and set(listings.values()) == {304}
    runs = query(db, "SELECT status, stored, requests FROM crawl_runs ORDER BY id")
    assert [r[0] for r in runs] == ["ok", "ok"]
    assert runs[1][1] == 0 and runs[1][2] < runs[0][2] / 2
    assert stored_urls(db) == articles


def _start_slow_crawl(running, tmp_path, db):
    seeds = running.write_seeds(tmp_path / "slow-outlets.toml")
    return subprocess.Popen(
        [sys.executable, "-m", "newsdedup", "crawl", "--db", str(db), "--seeds", str(seeds),
         "-s", "DOWNLOAD_DELAY=0.3", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "NEWSDEDUP_EXTRACT_WORKERS=1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )


def _wait_for_articles(db, n, proc, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if db.exists():
            try:
                if query(db, "SELECT count(*) FROM articles")[0][0] >= n:
                    return
            except sqlite3.OperationalError:
                pass  # schema not created yet
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} articles after {timeout}s")


@pytest.mark.slow
def test_second_run_exits_at_once_and_sigkill_loses_nothing(tmp_path):
    db = tmp_path / "news.db"
    with serve_newsroom(build_newsroom(NOW, extra_articles=150)) as big:
        first = _start_slow_crawl(big, tmp_path, db)
        try:
            _wait_for_articles(db, 10, first)
            started = time.monotonic()
            second = crawl(big, tmp_path, db)
            assert second.returncode == 75
            assert "another newsdedup run" in second.stderr
            assert time.monotonic() - started < 30
            _wait_for_articles(db, 25, first)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
        kept = stored_urls(db)
        assert len(kept) >= 25
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        assert query(db, "SELECT status FROM crawl_runs") == [("running",)]

        # The next run carries on: nothing lost, nothing twice, the killed run marked.
        again = crawl(big, tmp_path, db)
        assert again.returncode == 0, again.stderr[-3000:]
        urls = stored_urls(db)
        assert kept <= urls
        assert urls == set(big.newsroom.expected.article_urls(big.outlets))
        assert query(db, "SELECT count(*) = count(DISTINCT url) FROM articles") == [(1,)]
        assert query(db, "SELECT status FROM crawl_runs ORDER BY id") == [
            ("interrupted",), ("ok",)]
        # The killed run saved no validators, so the next run re-read the listings in full.
        assert query(db, "SELECT count(*) FROM fetch_log WHERE run_id = 2 AND "
                         "outcome = 'not_modified'") == [(0,)]


@pytest.mark.slow
def test_sigterm_ends_the_run_as_interrupted(tmp_path):
    db = tmp_path / "news.db"
    with serve_newsroom(build_newsroom(NOW, extra_articles=150)) as big:
        proc = _start_slow_crawl(big, tmp_path, db)
        try:
            _wait_for_articles(db, 5, proc)
            os.killpg(proc.pid, signal.SIGTERM)
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1
    assert query(db, "SELECT status FROM crawl_runs") == [("interrupted",)]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]

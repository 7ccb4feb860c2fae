"""Bad input against a real local HTTP server: each page becomes a recorded skip or
failure with a reason, the run goes on, and the database stays consistent."""

from __future__ import annotations

import json
import time

from tests.crawling import FAST, lock_held_elsewhere, outcomes, query, scrapy_crawl
from tests.mockserver import HostileOutlet


def test_every_bad_page_is_recorded_and_the_crawl_goes_on(tmp_path):
    db, seeds = tmp_path / "news.db", tmp_path / "outlets.toml"
    closed = HostileOutlet(robots="User-agent: *\nDisallow: /\n")
    with HostileOutlet(slow_seconds=4) as site, closed:
        seeds.write_text(
            site.seeds_toml("testblatt")
            + site.seeds_toml("kaputt", feeds=["/broken-feed.xml", "/not-a-feed.xml",
                                               "/broken-feed.json"],
                              sitemaps=["/sitemap.xml.gz"])
            + closed.seeds_toml("verschlossen"),
            encoding="utf-8",
        )
        started = time.monotonic()
        result = scrapy_crawl(
            *FAST, "-s", f"NEWSDEDUP_DB={db}", "-s", f"NEWSDEDUP_SEEDS={seeds}",
            "-s", "DOWNLOAD_TIMEOUT=2", "-s", "DOWNLOAD_MAXSIZE=1048576", "-s", "RETRY_TIMES=1",
            "-s", "NEWSDEDUP_EXTRACT_WORKERS=1",
        )
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stderr[-3000:]

        got = outcomes(db, site.base)
        assert got == HostileOutlet.BAD_ARTICLES
        # The 429 was retried once, after its Retry-After second.
        assert site.requests["/ratelimited.html"] == 2
        first, again = site.times["/ratelimited.html"]
        assert again - first >= 0.9
        # The 503 asked for an hour: given up at once, not retried.
        assert site.requests["/unavailable.html"] == 1
        # The endless response was cut at DOWNLOAD_MAXSIZE, the slow one at the timeout.
        assert elapsed < 60
        # The outlet whose robots.txt disallows everything: nothing but robots.txt fetched.
        assert set(closed.requests) == {"/robots.txt"}

    reasons = dict(query(db, "SELECT url, reason FROM fetch_log WHERE outcome != 'stored'"))
    assert reasons[site.url("/missing.html")] == "http_404"
    assert reasons[site.url("/gone.html")] == "http_410"
    assert reasons[site.url("/error.html")] == "http_500"
    assert reasons[site.url("/loop1.html")] == "redirect_loop"
    assert reasons[site.url("/slow.html")] == "timeout"
    assert reasons[site.url("/huge.html")] == "too_large"
    assert reasons[site.url("/binary.pdf")] == "not_html"
    assert reasons[site.url("/unavailable.html")] == "retry_after_too_long"
    assert reasons[site.url("/intern/secret.html")] == "robots_disallowed"
    assert reasons[site.url("/broken-feed.xml")] == "feed_no_entries"  # truncated before any
    assert reasons[site.url("/not-a-feed.xml")] == "feed_not_a_feed"
    assert reasons[site.url("/broken-feed.json")] == "feed_malformed"
    assert reasons[site.url("/sitemap.xml.gz")] == "sitemap_malformed"
    assert reasons[closed.url("/feed.xml")] == "robots_disallowed"

    # Wrong charset header: the text still reads as German, not mojibake.
    (title,) = query(db, "SELECT title FROM articles WHERE url = ?", (site.url("/latin1.html"),))[0]
    assert "Grüße aus Köln" in title

    run = query(db, "SELECT status, stored, failed, skipped FROM crawl_runs")
    assert run == [("ok", 5, 7 + 3, run[0][3])]
    per = {r[0]: (r[1], json.loads(r[2])) for r in query(
        db, "SELECT outlet, stored, failed_by_reason FROM crawl_run_outlets")}
    assert per["testblatt"][0] == 5
    assert per["kaputt"][1] == {"feed_not_a_feed": 1, "feed_malformed": 1, "sitemap_malformed": 1}
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    # Idempotent: no URL stored twice.
    assert query(db, "SELECT count(*) = count(DISTINCT url) FROM articles") == [(1,)]


def test_feed_listing_ten_thousand_urls_is_capped(tmp_path):
    db, seeds = tmp_path / "news.db", tmp_path / "outlets.toml"
    with HostileOutlet(many=10_000) as site:
        seeds.write_text(site.seeds_toml("viel", feeds=["/many-feed.xml"]), encoding="utf-8")
        result = scrapy_crawl(*FAST, "-s", f"NEWSDEDUP_DB={db}", "-s", f"NEWSDEDUP_SEEDS={seeds}",
                              "-s", "NEWSDEDUP_MAX_ARTICLES_PER_OUTLET=25")
        assert result.returncode == 0, result.stderr[-3000:]
        fetched = [p for p in site.requests if p.startswith("/many/")]
    assert len(fetched) == 25
    (stored, discovered, skipped) = query(
        db, "SELECT stored, discovered, skipped_by_reason FROM crawl_run_outlets")[0]
    assert stored == 25 and discovered == 10_000
    assert json.loads(skipped) == {"over_limit": 9_975}


def test_retry_after_holds_back_the_whole_outlet(tmp_path):
    db, seeds = tmp_path / "news.db", tmp_path / "outlets.toml"
    with HostileOutlet() as site:
        seeds.write_text(site.seeds_toml("bremse", feeds=["/ratelimit-feed.xml"]), encoding="utf-8")
        result = scrapy_crawl(
            "-s", f"NEWSDEDUP_DB={db}", "-s", f"NEWSDEDUP_SEEDS={seeds}",
            "-s", "DOWNLOAD_DELAY=0.1", "-s", "DOWNLOAD_DELAY_JITTER=0",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        )
        assert result.returncode == 0, result.stderr[-3000:]
        times = site.times
    refused = times["/ratelimited.html"][0]
    later = [t for path, ts in times.items() for t in ts if t > refused]
    assert len(later) >= 2
    # Retry-After: 1 on the 429 — nothing of this outlet was requested in the next second.
    assert min(later) - refused >= 0.9
    assert query(db, "SELECT count(*) FROM articles") == [(7,)]


def test_next_run_skips_redirected_and_non_article_urls_but_retries_failures(tmp_path):
    db, seeds = tmp_path / "news.db", tmp_path / "outlets.toml"
    with HostileOutlet() as site:
        seeds.write_text(site.seeds_toml("wieder", feeds=["/rerun-feed.xml"]), encoding="utf-8")
        for _ in range(2):
            result = scrapy_crawl(*FAST, "-s", f"NEWSDEDUP_DB={db}", "-s", f"NEWSDEDUP_SEEDS={seeds}")
            assert result.returncode == 0, result.stderr[-3000:]
        requests = site.requests
    # Stored under the redirect's target; the listed URL is not fetched again.
    assert requests["/moved.html"] == 1 and requests["/many/42.html"] == 1
    assert requests["/good/1.html"] == 1
    # The front page listed as an item is not an article, and stays known as such.
    assert requests["/"] == 1
    # A 404 may be temporary: the next run asks again.
    assert requests["/missing.html"] == 2
    assert {u for (u,) in query(db, "SELECT url FROM articles")} == {
        site.url("/many/42.html"), site.url("/good/1.html")}
    assert dict(query(db, "SELECT url, reason FROM known_urls")) == {
        site.url("/moved.html"): "alias", site.url("/"): query(
            db, "SELECT reason FROM fetch_log WHERE url = ? AND outcome = 'skipped'",
            (site.url("/"),))[0][0]}


def test_scrapy_crawl_reports_setup_mistakes_in_one_line(tmp_path):
    """`scrapy crawl outlets` checks what `newsdedup crawl` checks before Scrapy starts:
    each mistake is Scrapy's usage error (one `scrapy: error:` line, status 2), not a
    traceback from a task, and nothing is written."""
    seeds = tmp_path / "outlets.toml"
    seeds.write_text('[[outlet]]\nid = "x"\nname = "X"\ncountry = "DE"\nlanguage = "de"\n'
                     'homepage = "http://127.0.0.1:9/"\n', encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[outlet]\n", encoding="utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database " * 100)
    db = tmp_path / "news.db"
    cases = [
        (["-s", f"NEWSDEDUP_SEEDS={broken}"], f"{broken}:1"),
        (["-s", f"NEWSDEDUP_SEEDS={tmp_path / 'missing.toml'}"], "no such file"),
        (["-a", "outlet=nope"], "unknown outlet id(s): nope"),
        (["-a", "since=gestern"], "-a since='gestern': give a duration"),
        (["-s", f"NEWSDEDUP_DB={tmp_path / 'nowhere' / 'n.db'}"], "there is no directory"),
        (["-s", f"NEWSDEDUP_WARC_DIR={a_file / 'warc'}"], "cannot write WARC files"),
        (["-s", f"NEWSDEDUP_DB={junk}"], f"{junk}: not a usable SQLite database"),
    ]
    for args, expected in cases:
        result = scrapy_crawl("-s", f"NEWSDEDUP_DB={db}", "-s", f"NEWSDEDUP_SEEDS={seeds}", *args,
                              timeout=60)
        assert result.returncode == 2, (args, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, args
        errors = [line for line in result.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and expected in errors[0], (args, errors)
    assert junk.read_bytes() == b"not a database " * 100
    assert not db.exists()  # every case stopped before the store was opened


def test_scrapy_crawl_exits_75_while_another_process_holds_the_database(tmp_path):
    db = tmp_path / "news.db"
    with lock_held_elsewhere(db) as pid:
        result = scrapy_crawl("-s", f"NEWSDEDUP_DB={db}", timeout=60)
    assert result.returncode == 75, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"pid {pid}" in result.stderr.strip().splitlines()[-1]

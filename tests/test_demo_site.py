"""The offline demo newsroom: its texts, pages, feeds, sitemaps, server and ground truth."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest

from crawler.demo import build_newsroom, serve_newsroom
from crawler.demo.model import Served
from crawler.demo.texts import load_texts

NOW = datetime(2025, 3, 14, 11, 30, tzinfo=UTC)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def newsroom():
    return build_newsroom(NOW)


@pytest.fixture(scope="module")
def running(newsroom):
    with serve_newsroom(newsroom) as run:
        yield run


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def containment(part: set, whole: set) -> float:
    return len(part & whole) / len(part) if part else 0.0


def body_text(html: bytes) -> str:
    """The article text as printed: body paragraphs, without the credit line."""
    doc = lxml.html.fromstring(html)
    paras = doc.xpath(
        '//div[@class="article-body"]/p[not(@class)] | //div[@class="ticker-entry"]/p'
    )
    return "\n\n".join(p.text_content() for p in paras)


# -- texts ---------------------------------------------------------------------------


def test_wire_stories_have_news_length_and_three_agencies():
    texts = load_texts()
    assert len(texts.stories) >= 12
    assert {s.agency for s in texts.stories.values()} == {"dpa", "AFP", "Reuters"}
    for story in texts.stories.values():
        words = sum(len(p.split()) for p in story.paragraphs)
        assert 6 <= len(story.paragraphs) <= 10, story.id
        assert 330 <= words <= 600, (story.id, words)


def test_background_paragraph_recurs_in_two_different_stories():
    stories = load_texts().stories
    last = {}
    for s in stories.values():
        last.setdefault(s.paragraphs[-1], []).append(s.id)
    shared = [ids for ids in last.values() if len(ids) >= 2]
    assert ["dpa-sturm", "dpa-bahnstreik"] in shared
    assert ["reuters-ezb", "reuters-inflation"] in shared
    # Apart from that paragraph, the stories are unrelated.
    a, b = stories["dpa-sturm"], stories["dpa-bahnstreik"]
    assert (
        containment(shingles(" ".join(a.paragraphs[:-1])), shingles(" ".join(b.paragraphs[:-1])))
        < 0.02
    )


# -- ground truth --------------------------------------------------------------------


def test_newsroom_shape(newsroom):
    e = newsroom.expected
    assert 6 <= len(newsroom.outlets) <= 8
    kinds = [t.kind for t in e.articles.values()]
    assert kinds.count("wire") >= 24
    assert kinds.count("own") >= 10
    assert kinds.count("ticker") == 1
    styles = {t.style for t in e.articles.values() if t.kind == "wire"}
    assert styles == {"verbatim", "cut", "rewritten_lead", "mixed", "light_edit"}
    (ticker,) = e.tickers.values()
    assert len(ticker) >= 3
    assert len(e.too_old) == 2
    assert any(e.disallowed.values())
    assert any("utm_source=" in alias for alias in e.aliases)
    credited = {a for t in e.articles.values() for a in t.agencies}
    assert credited == {"dpa", "AFP", "Reuters"}
    # A photo credit names an agency on an article whose text is the outlet's own.
    assert any(t.kind == "own" and "dpa" in t.photo_credit for t in e.articles.values())


def test_dates_are_relative_to_now_and_inside_the_window(newsroom):
    e = newsroom.expected
    for t in e.articles.values():
        assert NOW - timedelta(hours=30) <= t.published <= NOW, t.path
    for t in e.too_old.values():
        assert t.published < NOW - timedelta(days=3)


def test_build_is_deterministic_for_a_fixed_now(newsroom):
    again = build_newsroom(NOW)
    assert again.expected == newsroom.expected
    for oid, site in newsroom.outlets.items():
        other = again.outlets[oid]
        assert site.resources.keys() == other.resources.keys()
        for path, res in site.resources.items():
            assert Served.of(res, "http://x:1") == Served.of(other.resources[path], "http://x:1"), (
                path
            )
    later = build_newsroom(NOW + timedelta(hours=5))
    moved = {t.title: t.published for t in later.expected.articles.values()}
    for t in newsroom.expected.articles.values():
        assert moved[t.title] - t.published == timedelta(hours=5)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        build_newsroom(datetime(2025, 3, 14, 12, 0))


def test_gold_matches_score_dedup_format(newsroom):
    bases = {oid: f"http://h{i}" for i, oid in enumerate(newsroom.outlets)}
    gold = newsroom.expected.gold(bases)
    assert len(gold["clusters"]) + len(gold["containers"]) == len(newsroom.expected.articles)
    by_story = {}
    for url, story in gold["clusters"].items():
        by_story.setdefault(story, []).append(url)
    assert all(len(urls) >= 2 for s, urls in by_story.items() if not s.startswith("solo:"))
    (quotes,) = gold["containers"].values()
    assert all(0 < share < 0.3 for share in quotes.values())


# -- served pages --------------------------------------------------------------------


def test_server_listens_on_loopback_and_answers_404(running):
    for base in running.outlets.values():
        parts = urlsplit(base)
        assert parts.hostname == "127.0.0.1" and parts.port
    assert len(set(running.outlets.values())) == len(running.outlets)
    status, headers, body = get(next(iter(running.outlets.values())) + "/gibt-es-nicht.html")
    assert status == 404 and "charset=utf-8" in headers["Content-Type"]
    assert b"Zur Startseite" in body


def test_article_pages_parse_with_furniture_and_metadata(running, newsroom):
    for url, truth in newsroom.expected.article_urls(running.outlets).items():
        status, headers, body = get(url)
        assert status == 200, url
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        doc = lxml.html.fromstring(body)
        site = newsroom.outlets[truth.outlet].spec.name
        assert doc.get("lang") == "de"
        assert doc.findtext(".//title") == f"{truth.title} | {site}"
        assert doc.xpath('string(//meta[@property="og:title"]/@content)') == truth.title
        assert doc.xpath('string(//link[@rel="canonical"]/@href)') == url
        assert doc.xpath('string(//meta[@name="author"]/@content)')
        ld = json.loads(doc.xpath('string(//script[@type="application/ld+json"])'))
        assert ld["@type"] == "NewsArticle" and ld["headline"] == truth.title
        published = datetime.fromisoformat(ld["datePublished"])
        assert published.utcoffset() is not None and published == truth.published
        assert ld["author"][0]["name"] and ld["publisher"]["name"] == site
        text = doc.text_content()
        for furniture in ("Alle akzeptieren", "Zur Startseite", "Newsletter", "Impressum"):
            assert furniture in text, (furniture, url)
        assert doc.xpath('//figcaption/span[@class="credit"]')
    with_body = [
        u
        for u in newsroom.expected.article_urls(running.outlets)
        if "articleBody" in get(u)[2].decode()
    ]
    assert with_body, "some outlets put articleBody into JSON-LD"


def test_tracking_url_serves_the_page_whose_canonical_drops_it(running, newsroom):
    alias = next(a for a in newsroom.expected.aliases if "utm_source=" in a)
    canonical = newsroom.expected.aliases[alias]
    base = running.outlets[newsroom.expected.articles[canonical].outlet]
    status, _, body = get(base + alias)
    assert status == 200
    doc = lxml.html.fromstring(body)
    assert doc.xpath('string(//link[@rel="canonical"]/@href)') == base + canonical


def test_wire_copies_share_text_with_their_source_and_others_do_not(running, newsroom):
    stories = load_texts().stories
    story_shingles = {sid: shingles(" ".join(s.paragraphs)) for sid, s in stories.items()}
    floor = {"verbatim": 0.97, "cut": 0.97, "mixed": 0.95, "rewritten_lead": 0.8, "light_edit": 0.8}
    for url, truth in newsroom.expected.article_urls(running.outlets).items():
        text = shingles(body_text(get(url)[2]))
        if truth.kind == "wire":
            source = set().union(*(story_shingles[s] for s in truth.sources))
            assert containment(text, source) >= floor[truth.style], (url, truth.style)
            if truth.style in ("light_edit", "rewritten_lead"):
                assert containment(text, source) < 0.97, ("the edit changed nothing", url)
            others = [s for s in stories if s not in truth.sources]
            # Only the agencies' standard background paragraph may recur elsewhere.
            assert max(containment(text, story_shingles[s]) for s in others) < 0.35, url
        elif truth.kind == "ticker":
            for sid in truth.quotes:
                assert shingles(stories[sid].lead) <= text, sid
        else:
            assert max(containment(text, sh) for sh in story_shingles.values()) < 0.02, url


def test_ticker_quotes_leads_word_for_word(running, newsroom):
    stories = load_texts().stories
    (path, quoted) = next(iter(newsroom.expected.tickers.items()))
    base = running.outlets[newsroom.expected.articles[path].outlet]
    text = body_text(get(base + path)[2])
    for sid in quoted:
        assert stories[sid].lead in text
    assert len({stories[s].agency for s in quoted}) == 3


# -- discovery -----------------------------------------------------------------------


def _links(base: str, html: bytes) -> set[str]:
    doc = lxml.html.fromstring(html)
    return {urljoin(base + "/", h) for h in doc.xpath("//a/@href")}


def test_feeds_parse_and_every_article_is_discoverable(running, newsroom):
    e = newsroom.expected
    kinds = set()
    for oid, site in newsroom.outlets.items():
        base = running.outlets[oid]
        found: set[str] = set()
        for feed in site.feeds:
            status, headers, body = get(base + feed)
            assert status == 200 and "charset=utf-8" in headers["Content-Type"]
            if feed.endswith(".json"):
                data = json.loads(body)
                assert data["version"] == "https://jsonfeed.org/version/1.1"
                links = [item["url"] for item in data["items"]]
                kinds.add("json")
            else:
                parsed = feedparser.parse(body)
                assert not parsed.bozo, parsed.get("bozo_exception")
                assert parsed.entries and all(en.get("published_parsed") for en in parsed.entries)
                links = [en.link for en in parsed.entries]
                kinds.add(parsed.version)
            found |= {link.split("?")[0] for link in links}
        _, _, robots = get(base + "/robots.txt")
        maps = list(site.news_sitemaps) + list(site.sitemaps)
        maps += [
            urlsplit(line.split(":", 1)[1].strip()).path
            for line in robots.decode().splitlines()
            if line.startswith("Sitemap:")
        ]
        while maps:
            status, headers, body = get(base + maps.pop())
            assert status == 200
            if body[:2] == b"\x1f\x8b":
                assert headers["Content-Type"] == "application/gzip"
                body = gzip.decompress(body)
            root = lxml.etree.fromstring(body)
            locs = [urlsplit(x).path for x in root.xpath("//*[local-name()='loc']/text()")]
            if root.tag.endswith("sitemapindex"):
                maps += locs
            else:
                found |= {base + p for p in locs}
        if not site.feeds and not maps and not site.news_sitemaps and not site.sitemaps:
            found |= _links(base, get(base + "/")[2])
        mine = {base + p for p, t in e.articles.items() if t.outlet == oid}
        assert mine <= found, (oid, mine - found)
        old = {base + p for p, t in e.too_old.items() if t.outlet == oid}
        assert old <= found  # listed, so a crawler has to skip them by date
    assert kinds >= {"rss20", "atom10", "json"}


def test_news_sitemap_dates_and_titles(running, newsroom):
    e = newsroom.expected
    base = running.outlets["rheinblatt"]
    root = lxml.etree.fromstring(get(base + "/news-sitemap.xml")[2])
    ns = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "n": "http://www.google.com/schemas/sitemap-news/0.9",
    }
    old = 0
    for url in root.findall("s:url", ns):
        path = urlsplit(url.findtext("s:loc", namespaces=ns)).path
        truth = e.articles.get(path) or e.too_old[path]
        date = datetime.fromisoformat(url.findtext(".//n:publication_date", namespaces=ns))
        assert date == truth.published
        assert url.findtext(".//n:title", namespaces=ns) == truth.title
        old += date < NOW - timedelta(days=3)
    assert old == 2


def test_robots_and_homepage_only_outlet(running, newsroom):
    site = newsroom.outlets["weser-echo"]
    assert not (site.feeds or site.news_sitemaps or site.sitemaps)
    base = running.outlets["weser-echo"]
    robots = get(base + "/robots.txt")[2].decode()
    assert "Disallow: /intern/" in robots
    home = _links(base, get(base + "/")[2])
    (forbidden,) = newsroom.expected.disallowed["weser-echo"]
    assert base + forbidden in home
    for section in newsroom.expected.index_pages["weser-echo"]:
        assert get(base + section)[0] == 200
    elbe = newsroom.outlets["elbe-kurier"]
    assert not elbe.sitemaps and not elbe.news_sitemaps
    assert (
        "Sitemap: " + running.outlets["elbe-kurier"] + "/sitemap-index.xml"
        in get(running.outlets["elbe-kurier"] + "/robots.txt")[2].decode()
    )


def test_conditional_get_answers_304_and_requests_are_counted(running, newsroom):
    url = running.outlets["rheinblatt"] + "/feed.xml"
    running.reset_requests()
    status, headers, _ = get(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-None-Match": '"something-else"'})[0] == 200
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    earlier = format_datetime(NOW - timedelta(days=2), usegmt=True)
    assert get(url, {"If-Modified-Since": earlier})[0] == 200
    assert running.requests[url] == 5
    assert running.statuses[(url, 304)] == 2
    gz = running.outlets["elbe-kurier"] + "/sitemaps/artikel-1.xml.gz"
    status, headers, body = get(gz)
    assert status == 200 and gzip.decompress(body).startswith(b"<?xml")
    assert get(gz, {"If-None-Match": headers["ETag"]})[0] == 304


def test_seeds_toml(running, newsroom):
    seeds = tomllib.loads(running.seeds_toml())["outlet"]
    assert [s["id"] for s in seeds] == list(newsroom.outlets)
    for s in seeds:
        assert s["homepage"] == running.outlets[s["id"]] + "/"
        assert s["country"] in {"DE", "AT", "CH"} and s["language"] == "de"
        for key in ("feeds", "news_sitemaps", "sitemaps"):
            for url in s[key]:
                assert urlsplit(url).hostname == "127.0.0.1"
                assert get(url)[0] == 200
        assert s["allow"] == [] and s["deny"] == []


# -- scale ---------------------------------------------------------------------------


def test_extra_articles_scale_and_stay_distinct(newsroom):
    big = build_newsroom(NOW, extra_articles=520)
    e = big.expected
    generated = [t for t in e.articles.values() if t.kind == "generated"]
    assert len(generated) == 520
    assert len(e.articles) == len(newsroom.expected.articles) + 520 >= 500
    assert {t.outlet for t in generated} == set(big.outlets)
    for t in generated:
        assert NOW - timedelta(hours=30) <= t.published <= NOW
    # Compare bodies pairwise: generated articles must not look like copies.
    texts = {}
    for t in generated[:160]:
        html = big.outlets[t.outlet].resources[t.path].body.encode()
        texts[t.path] = shingles(body_text(html))
    worst = max(len(a & b) / len(a | b) for a, b in itertools.combinations(texts.values(), 2))
    assert worst < 0.15, worst
    stories = load_texts().stories
    story_sh = shingles(" ".join(p for s in stories.values() for p in s.paragraphs))
    assert max(containment(sh, story_sh) for sh in texts.values()) < 0.02


def test_foreground_server_prints_ready_line_and_stops_on_sigterm(tmp_path):
    seeds = tmp_path / "seeds.toml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crawler.demo.server",
            "--extra",
            "14",
            "--seeds-out",
            str(seeds),
            "--now",
            NOW.isoformat(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = proc.stdout.readline()
        assert "ready" in line and str(seeds) in line
        outlets = tomllib.loads(seeds.read_text())["outlet"]
        assert get(outlets[0]["homepage"])[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

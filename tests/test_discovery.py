"""Discovery parsers on the real feeds in ../shared and on small hand-written bodies."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.discovery import (
    DiscoveryError,
    Link,
    _parse_feed_feedparser,
    _parse_xml_feed_fast,
    feed_links,
    homepage_links,
    looks_like_article,
    parse_date,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)

FEED_URL = "https://feeds.example.de/rss"

# -- real feeds from ../shared ----------------------------------------------------------

REAL_FEEDS = {
    # file: (entries with an http(s) link, first URL)
    "rss_parser_tests/content-encoded.rss": (
        7,
        "https://medium.com/invironment/the-creative-forager-125af37d838f?source=rss----d12c403d4976--food",
    ),
    "rss_parser_tests/craigslist.rss": (25, "http://sfbay.craigslist.org/eby/apa/6186664607.html"),
    "rss_parser_tests/encoding.rss": (
        40,
        "https://www.jn.pt/nacional/interior/sonia-laig-e-a-nova-presidente-da-rarissimas-9021600.html",
    ),
    "rss_parser_tests/feedburner.atom": (
        25,
        "http://googleadsdeveloper.blogspot.com/2016/06/adwords-and-dfp-java-client-library.html",
    ),
    "rss_parser_tests/guardian.rss": (
        55,
        "https://www.theguardian.com/us-news/2018/jan/31/donald-trump-state-of-the-union-address-unity-discord",
    ),
    "rss_parser_tests/heise.atom": (
        15,
        "http://www.heise.de/developer/meldung/Java-Anwendungsserver-Red-Hat-gibt-WildFly-10-frei-3088438.html?wt_mc=rss.developer.beitrag.atom",
    ),
    "rss_parser_tests/heraldsun.rss": (2, "http://www.oreilly.com/example/001.html"),
    "rss_parser_tests/instant-article.rss": (1, "https://localhost:8000"),
    "rss_parser_tests/reddit-atom.rss": (
        24,
        "https://www.reddit.com/r/space/comments/42babr/the_difficulties_in_space/",
    ),
    "rss_parser_tests/rss-1.rss": (
        69,
        "http://science.sciencemag.org/cgi/content/short/356/6343/1134-a?rss=1",
    ),
    "rss_parser_tests/uolNoticias.rss": (
        15,
        "https://noticias.uol.com.br/politica/eleicoes/2018/noticias/2018/09/24/ibope-bolsonaro-perde-de-haddad-ciro-e-alckmin-em-simulacoes-de-2-turno.htm",
    ),
    "trafilatura_tests/feed.json": (
        25,
        "https://www.npr.org/2021/10/29/1050315385/keller-rinaudo-how-can-delivery-drones-save-lives?utm_medium=JSONFeed&utm_campaign=technology",
    ),
    "trafilatura_tests/feed1.atom": (1, "http://example.org/2003/12/13/atom03"),
    "trafilatura_tests/feed2.rss": (1, "http://www.example.com/blog/post/1"),
}


def _feeds(shared: Path) -> Path:
    return shared / "data" / "feeds"


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(REAL_FEEDS))
def test_real_feeds(shared: Path, name: str) -> None:
    body = (_feeds(shared) / name).read_bytes()
    links = parse_feed(body, FEED_URL)
    count, first = REAL_FEEDS[name]
    assert len(links) == count
    assert links[0].url == first
    assert all(link.url.startswith(("http://", "https://")) for link in links)
    assert all(link.published is None or link.published.tzinfo is not None for link in links)
    assert len({link.url for link in links}) == len(links)


@pytest.mark.shared
def test_feed_without_declared_encoding_keeps_its_accents(shared: Path) -> None:
    # No XML declaration, Latin-1 bytes: read as UTF-8 this would be mojibake or fail.
    links = parse_feed((_feeds(shared) / "rss_parser_tests/uolNoticias.rss").read_bytes(), FEED_URL)
    assert (
        links[0].title
        == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )


@pytest.mark.shared
def test_iso_8859_1_feed(shared: Path) -> None:
    links = parse_feed((_feeds(shared) / "rss_parser_tests/encoding.rss").read_bytes(), FEED_URL)
    assert links[0].title == "Mãe de utente é a nova presidente da Raríssimas"
    assert links[0].published == datetime(2018, 1, 3, 13, 47, tzinfo=UTC)


@pytest.mark.shared
def test_feedburner_origlink_wins(shared: Path) -> None:
    links = parse_feed((_feeds(shared) / "rss_parser_tests/feedburner.atom").read_bytes(), FEED_URL)
    assert not any("feedproxy.google.com" in link.url for link in links)


@pytest.mark.shared
def test_atom_entry_without_alternate_link_is_skipped(shared: Path) -> None:
    # Its only link is rel="self" and its id a urn: nothing to fetch.
    links = parse_feed((_feeds(shared) / "trafilatura_tests/feed1.atom").read_bytes(), FEED_URL)
    assert [link.title for link in links] == ["Atom-Powered Robots Run Amok"]
    assert links[0].published == datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)


@pytest.mark.shared
def test_json_feed(shared: Path) -> None:
    links = parse_feed((_feeds(shared) / "trafilatura_tests/feed.json").read_bytes(), FEED_URL)
    assert links[0].title == "Keller Rinaudo: How can delivery drones save lives?"
    assert links[0].published == datetime(
        2021, 10, 29, 10, 26, tzinfo=timezone(timedelta(hours=-4))
    )


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(n for n in REAL_FEEDS if not n.endswith(".json")))
def test_fast_reader_agrees_with_feedparser(shared: Path, name: str) -> None:
    """The lxml reader is an optimisation: it must find what feedparser finds."""
    body = (_feeds(shared) / name).read_bytes()
    fast = _parse_xml_feed_fast(body.strip(), FEED_URL, "")
    slow = _parse_feed_feedparser(body, FEED_URL, "")
    assert fast is not None
    assert [(x.url, x.title, x.published) for x in fast] == [
        (x.url, x.title, x.published) for x in slow
    ]


@pytest.mark.shared
def test_real_sitemaps(shared: Path) -> None:
    base = _feeds(shared) / "trafilatura_tests"
    plain, children = parse_sitemap(
        (base / "sitemap.xml").read_bytes(), "https://www.sitemaps.org/sitemap.xml"
    )
    assert len(plain) == 84 and children == []
    assert plain[1] == Link(
        "https://www.sitemaps.org/protocol.html", None, datetime(2016, 11, 21, tzinfo=UTC)
    )
    # The same sitemap gzipped, under a name that does not say so.
    zipped, _ = parse_sitemap(
        (base / "sitemap.xml.gz").read_bytes(), "https://www.sitemaps.org/sitemap"
    )
    assert zipped == plain


@pytest.mark.shared
def test_real_sitemap_index(shared: Path) -> None:
    body = (_feeds(shared) / "trafilatura_tests/sitemap2.xml").read_bytes()
    links, children = parse_sitemap(body, "http://www.example.com/sitemap.xml")
    assert links == []
    assert children == [
        "http://www.example.com/sitemap1.xml.gz",
        "http://www.example.com/sitemap2.xml.gz",
    ]


@pytest.mark.shared
def test_real_sitemap_hreflang_alternates_ignored(shared: Path) -> None:
    body = (_feeds(shared) / "trafilatura_tests/sitemap-hreflang.xml").read_bytes()
    links, children = parse_sitemap(body, "http://www.example.com/sitemap.xml")
    # Three <loc>s; the nine xhtml:link alternates add nothing.
    assert [link.url for link in links] == [
        "http://www.example.com/english/page.html",
        "http://www.example.com/deutsch/page.html",
        "http://www.example.com/schweiz-deutsch/page.html",
    ]
    assert children == ["http://www.example.com/sitemap2.xml.gz"]
    assert not any("sitemap-de" in c or "sitemap-en" in c for c in children)


# -- hand-written feeds -----------------------------------------------------------------

RSS_DE = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Demo</title><link>https://www.demo.de/</link>
<item><title>Bundestag beschließt Haushalt</title>
<link>/politik/bundestag-beschliesst-haushalt-100.html</link>
<pubDate>Tue, 05 Mar 2024 14:30:00 +0100</pubDate></item>
<item><title>Ohne Datum &amp; mit Entität</title><guid>https://www.demo.de/panorama/ohne-datum-200.html</guid></item>
<item><title>Nur eine GUID, kein Link</title><guid isPermaLink="false">abc-123</guid></item>
<item><title>Doppelt</title><link>https://www.demo.de/politik/bundestag-beschliesst-haushalt-100.html</link></item>
</channel></rss>"""


def test_rss_relative_links_dates_and_guids() -> None:
    links = parse_feed(RSS_DE.encode(), "https://www.demo.de/rss.xml")
    assert links == [
        Link(
            "https://www.demo.de/politik/bundestag-beschliesst-haushalt-100.html",
            "Bundestag beschließt Haushalt",
            datetime(2024, 3, 5, 13, 30, tzinfo=UTC),
        ),
        Link("https://www.demo.de/panorama/ohne-datum-200.html", "Ohne Datum & mit Entität", None),
    ]


def test_rss_1_0_rdf() -> None:
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://www.heise.de/"><title>heise</title></channel>
<item rdf:about="https://www.heise.de/news/eins-zwei-drei-123456.html"><title>Eins</title>
<dc:date>2024-03-05T10:00:00+01:00</dc:date></item>
</rdf:RDF>"""
    [link] = parse_feed(body, "https://www.heise.de/rss/heise.rdf")
    assert link.url == "https://www.heise.de/news/eins-zwei-drei-123456.html"
    assert link.published == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def test_atom_html_title_and_alternate() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title type="html">&lt;b&gt;Eilmeldung:&lt;/b&gt; Zug entgleist</title>
<link rel="self" href="https://www.demo.de/api/1"/>
<link rel="alternate" type="text/html" href="https://www.demo.de/panorama/zug-entgleist-1.html"/>
<id>urn:x:1</id><updated>2024-03-05T10:00:00Z</updated></entry></feed>"""
    [link] = parse_feed(body, FEED_URL)
    assert link == Link(
        "https://www.demo.de/panorama/zug-entgleist-1.html",
        "Eilmeldung: Zug entgleist",
        datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
    )


def test_rss_0_91_without_namespace_or_dates() -> None:
    body = b"""<rss version="0.91"><channel><title>x</title>
<item><title>Erste</title><link>https://www.demo.de/a/erste-meldung-heute.html</link></item>
</channel></rss>"""
    [link] = parse_feed(body, FEED_URL)
    assert link == Link("https://www.demo.de/a/erste-meldung-heute.html", "Erste", None)


def test_feed_declared_utf8_with_latin1_headline() -> None:
    # A UTF-8 template with one headline pasted in as Windows-1252: both survive.
    body = RSS_DE.replace("beschließt", "beschlie\udcdft").encode("utf-8", "surrogateescape")
    body = body.replace(b"Haushalt</title>", "Haushalt – live</title>".encode())
    links = parse_feed(body, "https://www.demo.de/rss.xml")
    assert links[0].title == "Bundestag beschließt Haushalt – live"


def test_feed_http_charset_beats_xml_declaration() -> None:
    # Both charsets decode these bytes; only the HTTP one (RFC 7303) gives the right text.
    text = RSS_DE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    text = text.replace("Bundestag beschließt", "Sejm uchwalił")
    body = text.encode("iso-8859-2")
    links = parse_feed(body, "https://www.demo.de/rss.xml", "text/xml; charset=ISO-8859-2")
    assert links[0].title == "Sejm uchwalił Haushalt"
    assert parse_feed(body, "https://www.demo.de/rss.xml")[0].title == "Sejm uchwali\xb3 Haushalt"


def test_feed_declared_latin1_but_sent_as_utf8() -> None:
    body = RSS_DE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("utf-8")
    links = parse_feed(body, "https://www.demo.de/rss.xml")
    assert links[0].title == "Bundestag beschließt Haushalt"


def test_feed_gzipped_without_content_encoding() -> None:
    links = parse_feed(gzip.compress(RSS_DE.encode()), "https://www.demo.de/rss.xml")
    assert len(links) == 2


def test_truncated_feed_keeps_complete_entries() -> None:
    body = RSS_DE.encode()
    cut = body[: body.index(b"<item><title>Ohne")] + b"<item><title>Abgeschn"
    links = parse_feed(cut, "https://www.demo.de/rss.xml")
    assert [link.title for link in links] == ["Bundestag beschließt Haushalt"]


def test_json_feed_hand_written() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "Demo",
      "items": [
        {"id": "1", "url": "https://www.demo.de/a/erster-artikel-heute", "title": "Erster",
         "date_published": "2024-03-05T10:00:00+01:00"},
        {"id": "2", "external_url": "https://www.other.de/b/zweiter-artikel-heute"},
        {"id": "3", "content_text": "no url at all"},
        "not an object"
      ]}"""
    links = parse_feed(body, FEED_URL, "application/feed+json")
    assert links == [
        Link(
            "https://www.demo.de/a/erster-artikel-heute",
            "Erster",
            datetime(2024, 3, 5, 9, tzinfo=UTC),
        ),
        Link("https://www.other.de/b/zweiter-artikel-heute", None, None),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (
            b"<!DOCTYPE html><html><head><title>Startseite</title></head>"
            b"<body><a href='/a'>x</a></body></html>",
            "not_a_feed",
        ),
        (b"<html><body>Seite nicht gefunden</body></html>", "not_a_feed"),
        (b"<rss version='2.0'><channel><title>leer</title></channel></rss>", "not_a_feed"),
        (b"<rss><channel><item><title>kein Link</title></item></channel></rss>", "no_entries"),
        (b"<<<>>> &&& not xml at all", "not_a_feed"),
        (b'{"items": [', "malformed"),
        (b'{"title": "no items"}', "not_a_feed"),
        (b"\x1f\x8b\x08\x00garbage", "malformed"),
    ],
)
def test_unusable_feeds_raise_one_line(body: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError) as info:
        parse_feed(body, FEED_URL)
    assert info.value.reason == reason
    assert "\n" not in str(info.value)


def test_feed_quoting_html_is_still_a_feed() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
<description><![CDATA[<!DOCTYPE html><html><body>Teaser</body></html>]]></description>
<item><title>Eins</title><link>https://www.demo.de/a/erste-meldung-heute.html</link></item>
</channel></rss>"""
    assert [x.title for x in parse_feed(body, FEED_URL)] == ["Eins"]


def test_xhtml_page_with_xml_declaration_is_not_a_feed() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<!-- served by a CMS -->
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><body><a href="/a">x</a></body></html>"""
    with pytest.raises(DiscoveryError) as info:
        parse_feed(body, FEED_URL)
    assert info.value.reason == "not_a_feed"


def test_bare_bytes_are_never_opened_as_a_path(tmp_path: Path) -> None:
    # feedparser opens a bare string/bytes argument as a file or URL; parse_feed must not.
    secret = tmp_path / "feed.xml"
    secret.write_bytes(RSS_DE.encode())
    with pytest.raises(DiscoveryError):
        parse_feed(str(secret).encode(), FEED_URL)


def _big_rss(n: int) -> bytes:
    items = "".join(
        f"<item><title>Meldung {i}</title><link>https://www.demo.de/politik/meldung-nummer-{i}-heute.html</link>"
        f"<pubDate>Tue, 05 Mar 2024 14:30:00 +0100</pubDate></item>"
        for i in range(n)
    )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    return f"{head}{items}</channel></rss>".encode()


def test_feed_with_10000_entries_is_fast() -> None:
    body = _big_rss(10_000)
    start = time.perf_counter()
    links = parse_feed(body, FEED_URL)
    elapsed = time.perf_counter() - start
    assert len(links) == 10_000
    assert elapsed < 1.0, f"10,000-entry feed took {elapsed:.2f} s"
    # Truncated, it still parses fast (lxml recovery, not a feedparser fallback).
    start = time.perf_counter()
    half = body[: len(body) // 2]
    links = parse_feed(half, FEED_URL)
    elapsed = time.perf_counter() - start
    assert len(links) == half.count(b"</link>")  # every entry whose link arrived whole
    assert elapsed < 1.0, f"truncated 10,000-entry feed took {elapsed:.2f} s"


# -- hand-written sitemaps --------------------------------------------------------------

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://www.demo.de/politik/bundestag-beschliesst-haushalt-100.html</loc>
    <lastmod>2024-03-06T08:00:00+01:00</lastmod>
    <news:news>
      <news:publication><news:name>Demo</news:name><news:language>de</news:language></news:publication>
      <news:publication_date>2024-03-05T14:30:00+01:00</news:publication_date>
      <news:title>Bundestag beschlie\xc3\x9ft Haushalt</news:title>
    </news:news>
    <image:image><image:loc>https://img.demo.de/haushalt.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>https://www.demo.de/sport/nur-lastmod-200.html</loc>
    <lastmod>2024-03-04</lastmod>
  </url>
  <url><loc>  </loc></url>
  <url><loc>mailto:redaktion@demo.de</loc></url>
</urlset>"""


def test_news_sitemap_date_and_title_before_lastmod() -> None:
    links, children = parse_sitemap(NEWS_SITEMAP, "https://www.demo.de/news-sitemap.xml")
    assert children == []
    assert links == [
        Link(
            "https://www.demo.de/politik/bundestag-beschliesst-haushalt-100.html",
            "Bundestag beschließt Haushalt",
            datetime(2024, 3, 5, 13, 30, tzinfo=UTC),
        ),
        Link(
            "https://www.demo.de/sport/nur-lastmod-200.html", None, datetime(2024, 3, 4, tzinfo=UTC)
        ),
    ]


def test_sitemap_without_namespace_and_relative_locs() -> None:
    body = b"<urlset><url><loc>/a/erster-artikel-heute.html</loc></url></urlset>"
    links, _ = parse_sitemap(body, "https://www.demo.de/sitemap.xml")
    assert links == [Link("https://www.demo.de/a/erster-artikel-heute.html")]


def test_sitemap_index_gzipped_by_magic_bytes() -> None:
    body = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://www.demo.de/sitemap-2024-03.xml.gz</loc></sitemap>
<sitemap><loc><![CDATA[https://www.demo.de/sitemap-2024-02.xml.gz]]></loc></sitemap>
<sitemap><loc>https://www.demo.de/sitemap-2024-03.xml.gz</loc></sitemap>
</sitemapindex>"""
    links, children = parse_sitemap(gzip.compress(body), "https://www.demo.de/sitemap.xml")
    assert links == []
    assert children == [
        "https://www.demo.de/sitemap-2024-03.xml.gz",
        "https://www.demo.de/sitemap-2024-02.xml.gz",
    ]


def test_malformed_sitemap_recovers_what_it_can() -> None:
    body = NEWS_SITEMAP.replace(
        b"</url>\n  <url>\n    <loc>https://www.demo.de/sport",
        b"<url>&bogus; <loc>https://www.demo.de/sport",
    )
    links, _ = parse_sitemap(body, "https://www.demo.de/news-sitemap.xml")
    assert links[0].url == "https://www.demo.de/politik/bundestag-beschliesst-haushalt-100.html"


def test_truncated_sitemap_keeps_its_head() -> None:
    body = NEWS_SITEMAP[: NEWS_SITEMAP.index(b"<lastmod>2024-03-04")]
    links, _ = parse_sitemap(body, "https://www.demo.de/news-sitemap.xml")
    assert [link.url for link in links][:1] == [
        "https://www.demo.de/politik/bundestag-beschliesst-haushalt-100.html"
    ]


def test_truncated_gzip_keeps_its_head() -> None:
    body = _big_sitemap(2_000)
    zipped = gzip.compress(body)
    links, _ = parse_sitemap(zipped[: len(zipped) // 2], "https://www.demo.de/sitemap.xml.gz")
    assert 0 < len(links) < 2_000
    assert links[0].url == "https://www.demo.de/politik/meldung-nummer-0-heute.html"


def test_plain_text_sitemap() -> None:
    body = b"https://www.demo.de/a/erster-artikel-heute.html\r\nhttps://www.demo.de/b/zweiter-artikel-heute.html\n"
    links, children = parse_sitemap(body, "https://www.demo.de/sitemap.txt")
    assert [link.url for link in links] == [
        "https://www.demo.de/a/erster-artikel-heute.html",
        "https://www.demo.de/b/zweiter-artikel-heute.html",
    ]
    assert children == []


def test_feed_served_as_sitemap() -> None:
    links, children = parse_sitemap(RSS_DE.encode(), "https://www.demo.de/sitemap.xml")
    assert len(links) == 2 and children == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"<!DOCTYPE html><html><body><h1>404</h1></body></html>", "not_a_sitemap"),
        (
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
            "no_entries",
        ),
        (b"<foo><bar/></foo>", "not_a_sitemap"),
        (b"Dies ist kein Sitemap.\nNur Text.", "not_a_sitemap"),
        (b"\x1f\x8b\x08\x00garbage", "malformed"),
        (gzip.compress(b"")[:5], "malformed"),
    ],
)
def test_unusable_sitemaps_raise_one_line(body: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError) as info:
        parse_sitemap(body, "https://www.demo.de/sitemap.xml")
    assert info.value.reason == reason
    assert "\n" not in str(info.value)


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024))
    with pytest.raises(DiscoveryError) as info:
        parse_sitemap(bomb, "https://www.demo.de/sitemap.xml.gz")
    assert info.value.reason == "too_large"


def _big_sitemap(n: int) -> bytes:
    urls = "".join(
        f"<url><loc>https://www.demo.de/politik/meldung-nummer-{i}-heute.html</loc>"
        f"<news:news><news:publication><news:name>Demo</news:name><news:language>de</news:language></news:publication>"
        f"<news:publication_date>2024-03-05T14:30:00+01:00</news:publication_date>"
        f"<news:title>Meldung {i}</news:title></news:news></url>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    ).encode()


@pytest.mark.parametrize("zipped", [False, True])
def test_sitemap_with_10000_urls_is_fast(zipped: bool) -> None:
    body = _big_sitemap(10_000)
    if zipped:
        body = gzip.compress(body)
    start = time.perf_counter()
    links, _ = parse_sitemap(body, "https://www.demo.de/news-sitemap.xml")
    elapsed = time.perf_counter() - start
    assert len(links) == 10_000
    assert links[9_999].title == "Meldung 9999"
    assert elapsed < 1.0, f"10,000-URL sitemap took {elapsed:.2f} s"


# -- robots.txt -------------------------------------------------------------------------


def test_sitemaps_from_robots() -> None:
    robots = """# robots.txt for demo.de
User-agent: *
Disallow: /suche/
Sitemap: https://www.demo.de/sitemap-index.xml
sitemap:/news-sitemap.xml   # relative, lower case
SITEMAP : https://www.demo.de/sitemap-index.xml
Sitemap:
Sitemap: mailto:x@demo.de
"""
    assert sitemaps_from_robots(robots, "https://www.demo.de/robots.txt") == [
        "https://www.demo.de/sitemap-index.xml",
        "https://www.demo.de/news-sitemap.xml",
    ]
    assert sitemaps_from_robots("", "https://www.demo.de/robots.txt") == []
    bom = "\ufeffSitemap: https://www.demo.de/s.xml\n"
    assert sitemaps_from_robots(bom, "https://www.demo.de/robots.txt") == [
        "https://www.demo.de/s.xml"
    ]


# -- homepage links ---------------------------------------------------------------------

HOMEPAGE = """<!doctype html><html><head><title>Demo – Nachrichten</title>
<link rel="alternate" type="application/rss+xml" href="/rss.xml">
<link rel="stylesheet" href="/s.css"></head><body>
<nav><a href="/">Startseite</a> <a href="/politik/">Politik</a> <a href="/sport/">Sport</a>
<a href="/abo/">Abo</a> <a href="/impressum">Impressum</a> <a href="/login">Anmelden</a></nav>
<div class="cookie"><a href="/datenschutz">Datenschutz</a></div>
<article><a href="/politik/bundestag-beschliesst-haushalt-100.html"><h2>Bundestag beschließt
  Haushalt</h2></a></article>
<article><a href="/politik/bundestag-beschliesst-haushalt-100.html#kommentare">
  12 Kommentare</a></article>
<article><a href="/politik/bundestag-beschliesst-haushalt-100.html?utm_source=teaser"></a>
</article>
<article><a href="https://www.demo.de/panorama/2024/03/05/zug-entgleist-bei-hamm"
  title="Zug entgleist"><img src="x.jpg"></a></article>
<article><a href="https://sport.demo.de/fussball/bayern-gewinnt-spitzenspiel-gegen-dortmund">
  Bayern gewinnt</a></article>
<a href="/video/bundestag-beschliesst-haushalt-video-100.html">Video</a>
<a href="/thema/olaf-scholz-und-die-spd-im-wahlkampf">Thema</a>
<a href="https://www.andere-zeitung.de/politik/fremder-artikel-ueber-den-haushalt-100.html">Fremd</a>
<a href="mailto:redaktion@demo.de">Mail</a> <a href="javascript:void(0)">x</a> <a>ohne href</a>
</body></html>"""


def test_homepage_links() -> None:
    links = homepage_links(HOMEPAGE, "https://www.demo.de/")
    assert links == [
        Link(
            "https://www.demo.de/politik/bundestag-beschliesst-haushalt-100.html",
            "Bundestag beschließt Haushalt",
        ),
        Link("https://www.demo.de/panorama/2024/03/05/zug-entgleist-bei-hamm", "Zug entgleist"),
        Link(
            "https://sport.demo.de/fussball/bayern-gewinnt-spitzenspiel-gegen-dortmund",
            "Bayern gewinnt",
        ),
    ]


def test_homepage_links_on_a_local_demo_server() -> None:
    html = HOMEPAGE.replace("https://www.demo.de", "http://127.0.0.1:8001")
    links = homepage_links(html, "http://127.0.0.1:8001/")
    assert [link.url for link in links] == [
        "http://127.0.0.1:8001/politik/bundestag-beschliesst-haushalt-100.html",
        "http://127.0.0.1:8001/panorama/2024/03/05/zug-entgleist-bei-hamm",
    ]
    # Another port is another outlet: its absolute links are foreign, relative ones its own.
    other = [link.url for link in homepage_links(html, "http://127.0.0.1:8002/")]
    assert other == ["http://127.0.0.1:8002/politik/bundestag-beschliesst-haushalt-100.html"]


def test_homepage_links_junk() -> None:
    assert homepage_links("", "https://www.demo.de/") == []
    assert homepage_links(
        "<html><body><a href='/a/bund-und-laender-einig'>trunc", "https://www.demo.de/"
    ) == [Link("https://www.demo.de/a/bund-und-laender-einig", "trunc")]
    assert homepage_links("\x00\x01 binary \xff", "https://www.demo.de/") == []


def test_feed_links() -> None:
    assert feed_links(HOMEPAGE, "https://www.demo.de/") == ["https://www.demo.de/rss.xml"]


# -- article URL heuristics -------------------------------------------------------------

ARTICLES = [
    "https://www.spiegel.de/politik/deutschland/olaf-scholz-verteidigt-haushalt-a-5e2f1c3d-8b1a-4c2e-9f00-1234567890ab",
    "https://www.faz.net/aktuell/politik/inland/bundestag-beschliesst-haushalt-19512345.html",
    "https://www.tagesschau.de/inland/innenpolitik/haushalt-bundestag-100.html",
    "https://www.tagesschau.de/wirtschaft/verbraucher/zinsen-101.html",
    "https://www.zeit.de/politik/deutschland/2024-03/bundestag-haushalt-beschluss",
    "https://www.derstandard.at/story/3000000212345/regierung-einigt-sich",
    "https://orf.at/stories/3351234/",
    "https://www.nzz.ch/international/krieg-in-der-ukraine-ld.1812345",
    "https://www.t-online.de/nachrichten/deutschland/id_100123456/haushalt.html",
    "https://www.heise.de/news/Java-Anwendungsserver-Red-Hat-gibt-WildFly-10-frei-3088438.html",
    "https://netzpolitik.org/2024/ueberwachung-neues-gesetz-beschlossen/",
    "https://www.lto.de/recht/nachrichten/n/bgh-urteil-mietrecht-kuendigung-eigenbedarf/",
    "https://taz.de/Streit-um-den-Haushalt/!5912345/",
    "https://www.sueddeutsche.de/politik/haushalt-bundestag-einigung-1.6412345",
    "https://www.20min.ch/story/zug-entgleist-bei-zuerich-mehrere-verletzte-123456789012",
    "https://blog.example.de/?p=1234",
]

NOT_ARTICLES = [
    "https://www.spiegel.de/",
    "https://www.spiegel.de/politik/",
    "https://www.spiegel.de/politik/deutschland/",
    "https://www.spiegel.de/panorama/justiz-und-kriminalitaet/",
    "https://www.spiegel.de/thema/olaf_scholz/",
    "https://www.spiegel.de/video/olaf-scholz-verteidigt-haushalt-video-100.html",
    "https://www.zeit.de/autoren/M/Max_Mustermann/index",
    "https://www.faz.net/aktuell/politik/index.html",
    "https://www.tagesschau.de/inland.html",
    "https://www.tagesschau.de/multimedia/bilder/galerie/",
    "https://www.welt.de/impressum/",
    "https://www.bild.de/abo/bildplus-angebot-ohne-werbung-jetzt-testen",
    "https://www.bild.de/login/konto-anlegen-und-anmelden-schnell-und-einfach",
    "https://www.sueddeutsche.de/tag/bundestag-haushalt-und-finanzen-2024",
    "https://www.stern.de/politik/seite-2/",
    "https://www.lto.de/recht/nachrichten/n/bgh-urteil-mietrecht-kuendigung-eigenbedarf.pdf",
    "https://img.demo.de/bilder/2024/03/05/haushalt-bundestag-plenum-12345678.jpg",
    "https://www.demo.de/2024/03/",
    "mailto:redaktion@demo.de",
    "https://www.demo.de/newsletter",
]


@pytest.mark.parametrize("url", ARTICLES)
def test_looks_like_article(url: str) -> None:
    assert looks_like_article(url)


@pytest.mark.parametrize("url", NOT_ARTICLES)
def test_does_not_look_like_article(url: str) -> None:
    assert not looks_like_article(url)


@pytest.mark.shared
def test_most_real_feed_entries_look_like_articles(shared: Path) -> None:
    # News feeds list articles; the heuristic must agree for nearly all of them.
    urls: list[str] = []
    for name in ("guardian.rss", "heise.atom", "encoding.rss"):
        urls += [
            x.url
            for x in parse_feed((_feeds(shared) / "rss_parser_tests" / name).read_bytes(), FEED_URL)
        ]
    share = sum(map(looks_like_article, urls)) / len(urls)
    assert share >= 0.85, f"only {share:.0%} of {len(urls)} feed entries look like articles"


# -- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 05 Mar 2024 14:30:00 +0100", datetime(2024, 3, 5, 13, 30, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 14:30:00 GMT", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00Z", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00.123+01:00", datetime(2024, 3, 5, 13, 30, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03-05T14:30", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("", None),
        ("gestern", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    got = parse_date(text)
    assert got == expected
    assert got is None or got.tzinfo is not None

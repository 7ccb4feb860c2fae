"""Canonical URLs: one spelling per article, and rel=canonical honoured only when sane."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.store import article_id
from crawler.urls import canonical_link, canonicalize, is_tracking_param, same_site, site_of


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Spiegel.DE/politik/a-1.html", "https://www.spiegel.de/politik/a-1.html"),
        ("https://www.spiegel.de:443/politik/", "https://www.spiegel.de/politik/"),
        ("http://www.taz.de:80/!5912345/", "http://www.taz.de/!5912345/"),
        ("http://127.0.0.1:8765/news/a.html", "http://127.0.0.1:8765/news/a.html"),
        ("https://www.faz.net/aktuell/x-1.html#comments", "https://www.faz.net/aktuell/x-1.html"),
        ("https://www.zeit.de", "https://www.zeit.de/"),
        ("https://a.de/x/./y/../z.html", "https://a.de/x/z.html"),
        # Tracking parameters go, the rest stays in key order.
        (
            "https://www.heise.de/news/x-1.html?wt_mc=rss.red.ho.ho.atom.beitrag.beitrag",
            "https://www.heise.de/news/x-1.html",
        ),
        ("https://a.de/x?utm_source=tw&utm_medium=social&id=7", "https://a.de/x?id=7"),
        ("https://a.de/x?fbclid=IwAR0abc&gclid=Cj0K&mc_cid=1&mc_eid=2", "https://a.de/x"),
        ("https://a.de/x?b=2&a=1&b=1", "https://a.de/x?a=1&b=2&b=1"),
        ("https://a.de/x?print", "https://a.de/x?print"),
        ("https://a.de/x?", "https://a.de/x"),
        # Unsafe characters are escaped, existing escapes normalized to upper case.
        ("https://a.de/Straße mit Weg", "https://a.de/Stra%C3%9Fe%20mit%20Weg"),
        ("https://a.de/%c3%a4", "https://a.de/%C3%A4"),
        ("https://münchen.de/", "https://xn--mnchen-3ya.de/"),
    ],
)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mailto:redaktion@example.de",
        "javascript:void(0)",
        "tel:+49301234",
        "ftp://example.de/file",
        "data:text/html,hi",
        "",
        "   ",
        "https://",
        "http://a.de:99999/",
        "http://[::1/",
    ],
)
def test_canonicalize_rejects(url: str) -> None:
    assert canonicalize(url) is None


def test_canonicalize_resolves_against_base() -> None:
    base = "https://www.lto.de/recht/nachrichten/"
    assert (
        canonicalize("../hintergruende/h/x-y-z/", base)
        == "https://www.lto.de/recht/hintergruende/h/x-y-z/"
    )
    assert canonicalize("//cdn.lto.de/a.html", base) == "https://cdn.lto.de/a.html"
    assert canonicalize("/impressum?utm_campaign=x", base) == "https://www.lto.de/impressum"
    assert canonicalize("mailto:x@lto.de", base) is None


def test_spellings_of_one_article_share_an_id() -> None:
    spellings = [
        "https://www.tagesschau.de/inland/haushalt-101.html",
        "HTTPS://www.tagesschau.de:443/inland/haushalt-101.html",
        "https://www.tagesschau.de/inland/haushalt-101.html?utm_source=rss#kommentare",
        "https://www.tagesschau.de/inland/./haushalt-101.html?at_medium=rss",
    ]
    ids = {article_id(canonicalize(u) or "") for u in spellings}
    assert len(ids) == 1


def test_tracking_params() -> None:
    for key in [
        "utm_source",
        "UTM_Campaign",
        "fbclid",
        "gclid",
        "mc_cid",
        "wt_mc",
        "wt_zmc",
        "at_medium",
        "ns_campaign",
        "igshid",
    ]:
        assert is_tracking_param(key), key
    for key in ["id", "p", "page", "q", "artikel", "seite"]:
        assert not is_tracking_param(key), key


_segment = st.text(alphabet=st.sampled_from("abcxyzÄä-_.%20~ 9"), max_size=8)
_urls = st.builds(
    lambda scheme, host, port, segs, query, frag: (
        f"{scheme}://{host}{port}/"
        + "/".join(segs)
        + (f"?{query}" if query else "")
        + (f"#{frag}" if frag else "")
    ),
    st.sampled_from(["http", "HTTPS", "https"]),
    st.sampled_from(["www.example.de", "WWW.ORF.AT", "127.0.0.1", "münchen.de"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(_segment, max_size=4),
    st.text(alphabet=st.sampled_from("ab=&utm_x1%+"), max_size=12),
    st.text(alphabet="ab", max_size=3),
)


@given(_urls)
def test_canonicalize_is_idempotent(url: str) -> None:
    once = canonicalize(url)
    assert once is not None
    assert canonicalize(once) == once
    assert "#" not in once
    query = once.partition("?")[2]
    keys = [pair.split("=", 1)[0].lower() for pair in query.split("&") if pair]
    assert not any(k.startswith("utm_") for k in keys)


def test_site_of() -> None:
    assert site_of("https://news.orf.at/stories/3351234/") == "orf.at"
    assert site_of("https://www.bbc.co.uk/news") == "bbc.co.uk"
    # Local demo outlets: each host:port is its own site.
    assert site_of("http://127.0.0.1:8001/a") == "127.0.0.1:8001"
    assert not same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a")
    assert same_site("https://sport.orf.at/x", "https://orf.at/")
    assert not same_site("https://www.spiegel.de/", "https://www.zeit.de/")


PAGE = "https://www.lto.de/recht/nachrichten/n/bgh-urteil-mietrecht-kuendigung/"


def _page(head: str) -> str:
    return (
        f"<!doctype html><html><head><title>x</title>{head}</head><body><p>Text</p></body></html>"
    )


def test_canonical_link_relative_and_cleaned() -> None:
    html = _page('<link rel="canonical" href="/recht/nachrichten/n/bgh-urteil/?utm_source=x">')
    assert canonical_link(html, PAGE) == "https://www.lto.de/recht/nachrichten/n/bgh-urteil/"


def test_canonical_link_og_url_fallback() -> None:
    html = _page('<meta property="og:url" content="https://www.lto.de/recht/a-b-c/">')
    assert canonical_link(html, PAGE) == "https://www.lto.de/recht/a-b-c/"


def test_canonical_link_prefers_rel_canonical() -> None:
    html = _page(
        '<meta property="og:url" content="https://www.lto.de/og/">'
        '<link rel="canonical" href="https://www.lto.de/canonical/x-y-z/">'
    )
    assert canonical_link(html, PAGE) == "https://www.lto.de/canonical/x-y-z/"


def test_canonical_link_uses_base_href() -> None:
    html = _page('<base href="https://www.lto.de/recht/"><link rel="canonical" href="x-y-z/">')
    assert canonical_link(html, PAGE) == "https://www.lto.de/recht/x-y-z/"


@pytest.mark.parametrize(
    "head",
    [
        "",  # none given
        '<link rel="canonical" href="https://www.lto.de/">',  # site root for an article
        '<link rel="canonical" href="https://www.spiegel.de/">',  # another site's homepage
        '<link rel="canonical" href="https://www.spiegel.de/politik/a-b-c-d">',  # another site
        '<link rel="canonical" href="{{canonical_url}}">',  # template debris
        '<link rel="canonical" href="https://www.lto.de/%7Burl%7D">',
        '<link rel="canonical" href="javascript:void(0)">',
        '<link rel="canonical" href="">',
    ],
)
def test_canonical_link_ignores_bogus(head: str) -> None:
    assert canonical_link(_page(head), PAGE) is None


def test_canonical_link_falls_back_to_og_url_when_canonical_is_bogus() -> None:
    html = _page(
        '<link rel="canonical" href="https://www.lto.de/">'
        '<meta property="og:url" content="https://www.lto.de/recht/x-y-z/">'
    )
    assert canonical_link(html, PAGE) == "https://www.lto.de/recht/x-y-z/"


def test_canonical_link_cross_site_when_allowed() -> None:
    html = _page('<link rel="canonical" href="https://www.spiegel.de/politik/a-b-c-d">')
    assert (
        canonical_link(html, PAGE, allow_cross_site=True)
        == "https://www.spiegel.de/politik/a-b-c-d"
    )


def test_canonical_link_on_the_homepage_itself() -> None:
    html = _page('<link rel="canonical" href="https://www.lto.de/">')
    assert canonical_link(html, "https://www.lto.de/?utm_source=x") == "https://www.lto.de/"


def test_canonical_link_survives_junk() -> None:
    assert canonical_link("", PAGE) is None
    assert canonical_link("   ", PAGE) is None
    assert canonical_link("<html><head><link rel=canonical href=/x-y-z-w", PAGE) in (
        None,
        "https://www.lto.de/x-y-z-w",
    )
    decl = '<?xml version="1.0" encoding="utf-8"?>' + _page('<link rel="canonical" href="/a-b-c/">')
    assert canonical_link(decl, PAGE) == "https://www.lto.de/a-b-c/"
    assert canonical_link(_page('<link rel="canonical" href="/a">'), "mailto:x@y.de") is None

"""Find article URLs: feeds, sitemaps, robots.txt and homepage links. Pure, no Scrapy.

The spider hands response bodies here and gets back `Link`s; nothing in this module
does I/O. Every parser is tolerant (recovering XML, sniffing gzip and JSON by content
rather than by name) and raises `DiscoveryError` only when a body yields nothing usable,
with a one-line message and a machine-readable `reason` for the fetch log.

Feeds are read by a small lxml reader first (after repairing wrong or missing encodings,
recovering truncated markup), and by feedparser when lxml finds no feed in the body
(RSS 0.9x oddities, HTML-ish markup). feedparser alone takes 2-4 s for a 10,000-item
feed, the lxml reader 0.2-0.3 s; `tests/test_discovery.py` checks that both give the
same links on the real feeds in ../shared.
"""

from __future__ import annotations

import email.utils
import html as html_lib
import io
import json
import re
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
from lxml import etree

from crawler.encoding import CP1252_FALLBACK
from crawler.urls import canonicalize, same_site

# The sitemap protocol caps an uncompressed sitemap at 50 MB; more than that from a
# gzip body is a bomb or a mistake, so decompression stops there.
MAX_UNCOMPRESSED = 50 * 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]+>")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_ABSOLUTE_HTTP = re.compile(r"https?://[^/?#\s]", re.IGNORECASE)
# Dot segments, whitespace or backslashes: leave those to urljoin.
_NEEDS_JOIN = re.compile(r"[\s\\]|/\.\.?(?:/|$)")
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """One article URL found by discovery, with what the listing said about it."""

    # Absolute URL as the listing gave it, not yet canonicalized (the spider does that).
    url: str
    # Headline from the feed, news sitemap or anchor text; used if the page has none.
    title: str | None = None
    # tz-aware (UTC if the listing gave no zone); the spider skips entries older than
    # the crawl window before fetching them.
    published: datetime | None = None


class DiscoveryError(Exception):
    """A body that yields no usable links. `reason` is a short key for the fetch log."""

    def __init__(self, message: str, reason: str = "unusable") -> None:
        super().__init__(message)
        self.reason = reason


# -- shared helpers -------------------------------------------------------------------


def _gunzip(body: bytes, limit: int = MAX_UNCOMPRESSED) -> bytes:
    """Decompress as much of a gzip body as is readable: truncated archives keep their head."""
    decomp = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        # Feed in chunks so a bomb stops at `limit` instead of filling memory first.
        for i in range(0, len(body), 64 * 1024):
            out += decomp.decompress(body[i : i + 64 * 1024], limit - len(out) + 1)
            if len(out) > limit:
                raise DiscoveryError(
                    f"gzip body expands beyond {limit // (1024 * 1024)} MB — not a sitemap",
                    "too_large",
                )
            if decomp.eof:
                break
    except zlib.error:
        pass  # corrupt or truncated tail: parse what came out before it
    if not out:
        raise DiscoveryError(
            "gzip body could not be decompressed (corrupt or truncated)", "malformed"
        )
    return bytes(out)


def _maybe_gunzip(body: bytes) -> bytes:
    # By magic bytes, not by name: servers send `.xml.gz` both raw and with
    # Content-Encoding already undone, and some send gzip under a `.xml` name.
    return _gunzip(body) if body[:2] == _GZIP_MAGIC else body


def _strip_bom(body: bytes) -> bytes:
    body = body.lstrip()
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:].lstrip()
    return body


def _clean_text(value: str | None) -> str | None:
    """Plain one-line text: entities decoded, stray markup and runs of space removed."""
    if not value:
        return None
    if "<" in value:
        value = _TAG.sub(" ", value)
    if "&" in value:
        value = html_lib.unescape(value)
    value = _WS.sub(" ", value).strip()
    return value or None


def _from_struct(t: time.struct_time) -> datetime:
    """feedparser's UTC struct_time as an aware datetime."""
    return datetime(t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, tzinfo=UTC)


def parse_date(value: str | None) -> datetime | None:
    """A tz-aware datetime from RFC 822, ISO 8601 or any format feedparser knows; UTC if no zone."""
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    dt: datetime | None = None
    if value[:4].isdigit():
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            dt = None
    if dt is None:
        try:
            dt = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            dt = None
    if dt is None:
        parsed = feedparser.datetimes._parse_date(value)  # struct_time in UTC, or None
        if parsed is None:
            return None
        try:
            dt = _from_struct(parsed)
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Sub-second parts are noise for news and feedparser drops them; both readers agree.
    return dt.replace(microsecond=0)


def _is_http(url: object) -> bool:
    return isinstance(url, str) and urlsplit(url).scheme.lower() in ("http", "https")


def _absolute(url: str | None, base: str) -> str | None:
    if not url:
        return None
    url = url.strip()
    if not url:
        return None
    # Nearly every listed URL is already absolute; urljoin costs ~25 us a call, which
    # is a quarter of a second on a 10,000-entry sitemap.
    if _ABSOLUTE_HTTP.match(url) and not _NEEDS_JOIN.search(url):
        return url
    try:
        absolute = urljoin(base, url)
    except ValueError:
        return None
    return absolute if _is_http(absolute) else None


def _dedupe(links: list[Link]) -> list[Link]:
    """First occurrence of each URL wins; order is the listing's.

    Exact strings only: canonicalizing here would double the cost of a large sitemap,
    and the spider canonicalizes every URL before it fetches anyway.
    """
    seen: set[str] = set()
    out: list[Link] = []
    for link in links:
        key = link.url
        if key in seen:
            continue
        seen.add(key)
        out.append(link)
    return out


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1]


# The first markup of the body, after an XML declaration and comments, opens an HTML page.
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)


def _looks_like_html(body: bytes) -> bool:
    # Only the start counts: a feed may well carry "<html" inside a CDATA description.
    return bool(_HTML_START.match(body[:4096]))


# -- feeds ----------------------------------------------------------------------------


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> list[Link]:
    """Entries of an RSS 0.9x/1.0/2.0, Atom or JSON Feed document, in feed order.

    Relative entry links are resolved against `url`. Raises `DiscoveryError` when the body
    is empty, HTML, or a feed without a single entry that has an http(s) link.
    """
    if not body or not body.strip():
        raise DiscoveryError("empty body", "empty")
    body = _strip_bom(_maybe_gunzip(body))
    ctype = (content_type or "").lower()
    if body[:1] in (b"{", b"[") or ("json" in ctype and not body.startswith(b"<")):
        return _parse_json_feed(body, url)
    if _looks_like_html(body):
        raise DiscoveryError("HTML page, not a feed — check the feed URL in seeds/", "not_a_feed")
    links = _parse_xml_feed_fast(body, url, ctype)
    if links is None:
        links = _parse_feed_feedparser(body, url, ctype)
    links = _dedupe(links)
    if not links:
        raise DiscoveryError("feed has no entries with an http(s) link", "no_entries")
    return links


def _parse_json_feed(body: bytes, url: str) -> list[Link]:
    """JSON Feed 1.0/1.1 (https://www.jsonfeed.org/version/1.1/), read by hand."""
    data: Any = None
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            data = json.loads(body.decode(encoding))
            break
        except UnicodeDecodeError:
            continue
        except json.JSONDecodeError as exc:
            raise DiscoveryError(f"malformed JSON: {exc}", "malformed") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise DiscoveryError('JSON but not a JSON Feed (no "items" list)', "not_a_feed")
    base = data.get("home_page_url") if _is_http(data.get("home_page_url")) else url
    links: list[Link] = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        # `url` is the item's own page; `external_url` points elsewhere (link blogs).
        raw = item.get("url") or item.get("external_url")
        if not isinstance(raw, str):
            # `id` is often a number or a urn; only an absolute URL can stand in.
            raw = item.get("id") if _is_http(item.get("id")) else None
        link = _absolute(raw, base or url)
        if not link:
            continue
        title = item.get("title")
        date = item.get("date_published") or item.get("date_modified")
        links.append(
            Link(
                url=link,
                title=_clean_text(title) if isinstance(title, str) else None,
                published=parse_date(date) if isinstance(date, str) else None,
            )
        )
    return _dedupe(links)


_STRICT_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, recover=False, remove_comments=True
)
_RECOVER_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, recover=True, remove_comments=True
)
_XML_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")


_SINGLE_BYTE = frozenset(
    {"iso-8859-1", "latin-1", "latin1", "iso-8859-15", "windows-1252", "cp1252", "us-ascii"}
)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _trustworthy_xml(body: bytes, ctype: str) -> bytes:
    """The body as bytes whose encoding lxml will read right.

    An HTTP charset wins over the XML declaration (RFC 7303). A document declared
    Latin-1 that is valid multi-byte UTF-8 is UTF-8: such byte pairs almost never occur
    in real Latin-1 text. A document that does not decode in the charset it claims is
    read as UTF-8 with the stray bytes taken as Windows-1252, the usual culprit.
    Anything not read as declared is handed on re-encoded as UTF-8.
    """
    http = _CHARSET.search(ctype)
    declared = _XML_ENCODING.match(body)
    lxml_reads = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    claimed = http.group(1).lower() if http else lxml_reads
    if claimed in _SINGLE_BYTE and not body.isascii() and _is_utf8(body):
        claimed = "utf-8"
    try:
        text = body.decode(claimed)
    except (UnicodeDecodeError, LookupError):
        # Mixed documents are common (UTF-8 template, Latin-1 headlines pasted in):
        # keep every valid UTF-8 sequence and read only the stray bytes as Windows-1252.
        text = body.decode("utf-8", errors=CP1252_FALLBACK)
    else:
        if claimed == lxml_reads:
            return body
    text = text.removeprefix("\ufeff")
    text = _XML_DECL_TEXT.sub("", text, count=1)
    return b'<?xml version="1.0" encoding="utf-8"?>' + text.encode("utf-8")


def _parse_xml_feed_fast(body: bytes, url: str, ctype: str) -> list[Link] | None:
    """Entries of an RSS/Atom document via lxml (recovering); None means "ask feedparser"."""
    body = _trustworthy_xml(body, ctype)
    try:
        root = etree.fromstring(body, _STRICT_PARSER, base_url=url)
    except etree.XMLSyntaxError:
        # Truncated or sloppy markup: keep what parses. Entries cut off mid-way lose
        # their link and are dropped below.
        try:
            root = etree.fromstring(body, _RECOVER_PARSER, base_url=url)
        except etree.XMLSyntaxError:
            root = None
    if root is None:
        return None
    kind = _local(root.tag).lower()
    if kind == "rss" or kind == "rdf":
        entries = root.iter("{*}item")
    elif kind == "feed":
        entries = root.iter("{*}entry")
    else:
        return None
    links: list[Link] = []
    for entry in entries:
        link = _fast_entry(entry, url)
        if link is not None:
            links.append(link)
    return links or None


def _fast_entry(entry: etree._Element, url: str) -> Link | None:
    title = published = updated = None
    orig = link = guid = alternate = about = None
    guid_is_link = True
    for child in entry:
        name = _local(child.tag)
        if not name:
            continue
        if name == "title":
            title = child.text
        elif name == "link":
            href = child.get("href")
            if href is None:  # RSS <link>text</link>
                link = link or child.text
            elif alternate is None and child.get("rel", "alternate") == "alternate":
                # Atom / atom:link: the first alternate, as feedparser picks it.
                alternate = href
        elif name == "origLink":  # FeedBurner keeps the publisher's URL here
            orig = child.text
        elif name in ("guid", "id"):
            guid = child.text
            guid_is_link = child.get("isPermaLink", "true").lower() != "false"
        elif name in ("pubDate", "published", "issued", "date"):
            published = published or child.text
        elif name in ("updated", "modified"):
            updated = updated or child.text
    about = entry.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
    base = entry.base or url
    candidates = [orig, link, alternate, guid if guid_is_link else None, about]
    for raw in candidates:
        absolute = _absolute(raw, base)
        if absolute:
            return Link(
                url=absolute,
                title=_clean_text(title),
                published=parse_date(published) or parse_date(updated),
            )
    return None


def _parse_feed_feedparser(body: bytes, url: str, ctype: str) -> list[Link]:
    headers = {"content-location": url}
    if ctype:
        headers["content-type"] = ctype
    # A BytesIO, never the bytes themselves: feedparser treats a bare string or bytes
    # that look like a path or URL as something to open.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f": {str(problem).splitlines()[0]}" if problem else ""
        raise DiscoveryError(f"not a feed, or a feed without entries{detail}", "not_a_feed")
    links: list[Link] = []
    for entry in parsed.entries:
        raw = entry.get("feedburner_origlink")
        if not raw:
            alternates = [
                lk.get("href") for lk in entry.get("links", []) if lk.get("rel") == "alternate"
            ]
            raw = alternates[0] if alternates else entry.get("link")
        if not _is_http(urljoin(url, raw or "")):
            raw = entry.get("id") if entry.get("guidislink", True) else None
        absolute = _absolute(raw, url)
        if not absolute:
            continue
        # dict.get: FeedParserDict.get maps the two keys onto each other, with a warning.
        stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        published = _from_struct(stamp) if stamp else None
        links.append(Link(url=absolute, title=_clean_text(entry.get("title")), published=published))
    return links


# -- sitemaps -------------------------------------------------------------------------


def parse_sitemap(body: bytes, url: str) -> tuple[list[Link], list[str]]:
    """(article links, child sitemap URLs) of a sitemap (https://www.sitemaps.org/protocol.html).

    Reads `urlset` and `sitemapindex` documents, gzipped or not, and plain-text sitemaps
    (one URL a line). A Google News entry's `news:publication_date` and `news:title` give
    `published` and `title`, else `lastmod` gives `published`. hreflang alternates are
    ignored. RSS/Atom served as a sitemap (which Google accepts) is read as a feed.
    """
    if not body or not body.strip():
        raise DiscoveryError("empty body", "empty")
    body = _strip_bom(_maybe_gunzip(body))
    if not body:
        raise DiscoveryError("empty body after decompression", "empty")
    if not body.startswith(b"<"):
        return _parse_text_sitemap(body, url), []
    root = None
    try:
        root = etree.fromstring(body, _RECOVER_PARSER, base_url=url)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise DiscoveryError("malformed XML, nothing recoverable", "malformed")
    kind = _local(root.tag).lower()
    if kind in ("rss", "feed", "rdf"):
        return parse_feed(body, url), []
    if kind not in ("urlset", "sitemapindex") and (kind == "html" or _looks_like_html(body)):
        raise DiscoveryError(
            f"HTML page, not a sitemap (root element <{_local(root.tag)}>)", "not_a_sitemap"
        )
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(
            f"not a sitemap: root element <{_local(root.tag)}>, "
            "expected <urlset> or <sitemapindex>",
            "not_a_sitemap",
        )
    links: list[Link] = []
    children: list[str] = []
    # Both kinds are read either way: some CMS mix <sitemap> and <url> in one document.
    for el in root.iter("{*}url", "{*}sitemap"):
        if _local(el.tag) == "sitemap":
            loc = _child_text(el, "loc")
            child = _absolute(loc, url)
            if child:
                children.append(child)
            continue
        link = _sitemap_entry(el, url)
        if link is not None:
            links.append(link)
    children = list(dict.fromkeys(children))
    if not links and not children:
        raise DiscoveryError("sitemap lists no http(s) URLs", "no_entries")
    return _dedupe(links), children


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if _local(child.tag) == name:
            return child.text
    return None


def _sitemap_entry(el: etree._Element, url: str) -> Link | None:
    loc = lastmod = news_date = news_title = None
    for child in el:
        name = _local(child.tag)
        if name == "loc":
            loc = child.text
        elif name == "lastmod":
            lastmod = child.text
        elif name == "news":
            for sub in child:
                subname = _local(sub.tag)
                if subname == "publication_date":
                    news_date = sub.text
                elif subname == "title":
                    news_title = sub.text
        # xhtml:link hreflang alternates, image:image, video:video: not articles of this entry
    absolute = _absolute(loc, url)
    if not absolute:
        return None
    return Link(
        url=absolute,
        title=_clean_text(news_title),
        published=parse_date(news_date) or parse_date(lastmod),
    )


def _parse_text_sitemap(body: bytes, url: str) -> list[Link]:
    text = body.decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    links = [Link(url=u) for u in (_absolute(line, url) for line in lines) if u and " " not in u]
    # A text sitemap is nothing but URLs; prose with the odd link in it is not one.
    if not links or len(links) < len(lines) / 2:
        raise DiscoveryError("neither XML nor a plain-text list of URLs", "not_a_sitemap")
    return _dedupe(links)


# -- robots.txt -----------------------------------------------------------------------

_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def sitemaps_from_robots(text: str, base_url: str) -> list[str]:
    """The `Sitemap:` URLs of a robots.txt, absolute, in order, without duplicates."""
    found: list[str] = []
    for match in _SITEMAP_LINE.finditer((text or "").lstrip("\ufeff")):
        raw = match.group(1).split("#", 1)[0]
        absolute = _absolute(raw, base_url)
        if absolute and absolute not in found:
            found.append(absolute)
    return found


# -- homepage links -------------------------------------------------------------------


def _parse_html(html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html)
    except ValueError:  # a str that still carries an XML encoding declaration
        return lxml.html.document_fromstring(html.encode("utf-8"))


def homepage_links(html: str, base_url: str) -> list[Link]:
    """Same-site links of a page that look like articles (depth-1 discovery), in page order.

    The title is the anchor text (or its `title` attribute). Each canonical URL appears once,
    with the first non-empty title seen for it.
    """
    if not html or not html.strip():
        return []
    try:
        doc = _parse_html(html)
    except (etree.ParserError, ValueError):
        return []
    base = base_url
    for el in doc.iter("base"):
        if el.get("href"):
            base = urljoin(base_url, el.get("href").strip())
        break
    order: list[str] = []
    found: dict[str, Link] = {}
    for a in doc.iter("a"):
        href = a.get("href")
        absolute = _absolute(href, base)
        if not absolute or not same_site(absolute, base_url) or not looks_like_article(absolute):
            continue
        key = canonicalize(absolute)
        if key is None:
            continue
        title = _clean_text(a.text_content()) or _clean_text(a.get("title"))
        if key not in found:
            order.append(key)
            found[key] = Link(url=absolute, title=title)
        elif found[key].title is None and title:
            found[key] = Link(url=found[key].url, title=title)
    return [found[k] for k in order]


def feed_links(html: str, base_url: str) -> list[str]:
    """Feeds a page advertises with `<link rel="alternate" type="application/rss+xml">`."""
    if not html or not html.strip():
        return []
    try:
        doc = _parse_html(html)
    except (etree.ParserError, ValueError):
        return []
    feeds: list[str] = []
    for el in doc.iter("link"):
        rels = (el.get("rel") or "").lower().split()
        ctype = (el.get("type") or "").lower()
        if "alternate" in rels and ctype in (
            "application/rss+xml",
            "application/atom+xml",
            "application/feed+json",
            "application/json",
        ):
            absolute = _absolute(el.get("href"), base_url)
            if absolute and absolute not in feeds:
                feeds.append(absolute)
    return feeds


# -- article URL heuristics -----------------------------------------------------------

# Path segments that mark a page as navigation, a service page or non-text media.
_NON_ARTICLE_SEGMENTS = frozenset(
    """
    tag tags thema themen topic topics schlagwort schlagworte stichwort stichworte
    autor autoren author authors profil redaktion
    video videos mediathek galerie galerien bildergalerie bildergalerien bilder fotos foto
    fotostrecke fotostrecken gallery galleries photos audio podcast podcasts livestream
    login logout anmelden abmelden registrieren register konto account mein-konto
    abo abos abonnement abonnieren aboshop shop
    impressum datenschutz datenschutzerklaerung privacy kontakt contact agb
    nutzungsbedingungen barrierefreiheit ueber-uns about cookies cookie
    suche search newsletter rss feed feeds sitemap
    category kategorie archiv archive wetter horoskop kreuzwortraetsel traueranzeigen
    jobs karriere stellenangebote mediadaten werbung hilfe faq help epaper e-paper
    """.split()
)
_NON_ARTICLE_STEMS = frozenset({"index", "default", "home", "start", "startseite", "uebersicht"})
_NON_TEXT_EXT = frozenset(
    "jpg jpeg png gif svg webp avif ico pdf mp3 mp4 m4a ogg webm mov xml rss atom json css js "
    "zip gz ics txt vcf".split()
)
_PAGE_SEGMENT = re.compile(r"^(?:seite|page|p)[-_]?\d+$")
_LONG_NUMBER = re.compile(r"\d{5,}")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_MONTH_OR_DAY = re.compile(r"^\d{1,2}$")
_ISO_DATE = re.compile(r"(?:19|20)\d\d-\d\d(?:-\d\d)?")
_WORD = re.compile(r"[^\W\d_]{2,}")
_ID_PARAM = re.compile(r"(?:^|&)(?:p|id|artikel|article|artid|story|storyid|newsid)=\d{3,}(?:&|$)")


def looks_like_article(url: str) -> bool:
    """Heuristic: does this URL name a single text article rather than a section or service page?

    Signs of an article: a long numeric id (`-19512345.html`, `/stories/3351234/`), a date
    in the path followed by a slug, a slug of several hyphenated words, or a `.html` page
    deeper than one level with a hyphen or digit in its name. Never: the root, one-word
    section paths, tag/author/video/gallery/login/abo/impressum pages, media files.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return False
    segments = [s for s in parts.path.lower().split("/") if s]
    if not segments:
        return bool(_ID_PARAM.search(parts.query))
    last = segments[-1]
    stem, dot, ext = last.rpartition(".")
    if not dot or "-" in ext or len(ext) > 5:
        stem, ext = last, ""
    if ext in _NON_TEXT_EXT:
        return False
    plain = [*segments[:-1], stem]
    if any(s in _NON_ARTICLE_SEGMENTS or _PAGE_SEGMENT.match(s) for s in plain):
        return False
    if stem in _NON_ARTICLE_STEMS:
        return False
    if _ID_PARAM.search(parts.query):
        return True
    if any(_LONG_NUMBER.search(s) for s in plain):
        return True
    # /2024/01/15/slug or /2024-01/slug: a date followed by something.
    for i, seg in enumerate(plain[:-1]):
        if _YEAR.match(seg) or _ISO_DATE.fullmatch(seg):
            rest = plain[i + 1 :]
            if any(not _MONTH_OR_DAY.match(s) for s in rest):
                return True
    words = len(_WORD.findall(stem.replace("_", "-")))
    if words >= 4 or (words >= 3 and ext in ("html", "htm", "shtml", "php")):
        return True
    if (
        ext in ("html", "htm", "shtml")
        and len(segments) >= 2
        and any(c in stem for c in "-0123456789")
    ):
        return True
    return False

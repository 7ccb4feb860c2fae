"""One fetched page -> one article record, or a reason why it is not an article.

Pipeline per page: decode bytes -> parse once with lxml -> page metadata from JSON-LD
and <meta> (crawler.metadata) -> body with trafilatura -> choose between trafilatura's
body and JSON-LD articleBody (`choose_body`) -> the standfirst the page shows, where
trafilatura left it out (German-language pages) -> furniture cleanup (crawler.cleanup)
-> agency credits in the body and in credit lines beside it (crawler.agencies). One lxml
tree serves every step. Pure: no network, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from crawler.agencies import credits_in_text, find_agencies, mentions_agency
from crawler.cleanup import clean_text, text_key
from crawler.encoding import decode_utf8_lenient
from crawler.metadata import ARTICLE_TYPES, PageMeta, read_page_meta

# Below this many characters of cleaned body, a page is not an article (a teaser, a
# gallery, an error page). Short agency briefs ("Berlin (dpa) - ...") run ~300 chars.
MIN_ARTICLE_CHARS = 200

# Article pages are extracted in trafilatura's fast mode, which skips comparing its
# result with readability and jusText (a quarter of its time; on the bench pages the
# comparison changes the body of 4% of article pages, for better and worse alike).
# A fast body shorter than this (the shortest real agency briefs run ~300 characters,
# a reprint notice or a teaser less) means the article's markup is unusual: then the
# full cascade runs, in precision and in balanced mode, and the longest text is kept.
PRECISION_RETRY_CHARS = 500

# Languages whose news pages count the standfirst as the article's first paragraph.
# German-language outlets set the lead ("Vorspann") as the opening of the text, and
# wire copy opens with it ("Berlin (dpa) - ..."), so the copies dedup looks for share
# it. English-language pages set the dek apart as a summary under the headline (the
# aeb ground truth leaves it out: including it there costs 0.4 points of F1).
STANDFIRST_LANGUAGES = {"de"}

# trafilatura options for every page: comments are not the article; tables stay
# (election results, league tables are part of the story); links and images are not text.
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
    "with_metadata": False,  # metadata comes from crawler.metadata, read once
}


@dataclass
class Extracted:
    """An article as stored in `articles`; read by the store, dedup and the CLI."""

    title: str | None  # headline without the site-name suffix
    text: str  # cleaned body, paragraphs separated by blank lines
    published: str | None = None  # ISO 8601 (offset as the page gave it) or None
    modified: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str | None = None  # ISO 639-1
    site_name: str | None = None
    description: str | None = None
    keywords: list[str] = field(default_factory=list)  # section first, then keywords
    image: str | None = None  # lead image URL
    paywall: bool | None = None  # from JSON-LD isAccessibleForFree; None when not stated
    agencies: list[str] = field(default_factory=list)  # normalized names, see crawler.agencies
    canonical_url: str | None = None  # rel=canonical when it names an article on the same site
    body_source: str = "trafilatura"  # trafilatura | jsonld | text: which body was kept

    def to_row(self, url: str, outlet: str) -> dict[str, Any]:
        """A row for `Store.upsert_articles` (columns of crawler.store.ARTICLE_COLUMNS)."""
        row = asdict(self)
        for key in ("canonical_url", "body_source"):
            row.pop(key)
        row.update(url=url, outlet=outlet, source="ingest")
        return row


class NotArticle(Exception):  # noqa: N818 - a verdict about the page, not a failure
    """The page is not an article; `reason` is one of REASONS, `detail` one human line."""

    REASONS = ("index_page", "consent_wall", "block_page", "too_short", "empty", "not_html")

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# -- decoding -------------------------------------------------------------------------


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Bytes -> str: BOM, then valid UTF-8, then declared charset, then detection.

    Valid UTF-8 wins over a declared single-byte charset: German text in UTF-8 is
    (practically) never valid in latin-1 by accident, while pages declaring
    iso-8859-1 but serving UTF-8 are common. Never raises on bad bytes.
    """
    if not body:
        return ""
    bom_enc, bom = read_bom(body)
    if bom_enc and bom:
        return body[len(bom) :].decode(bom_enc, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = http_content_type_encoding(content_type) if content_type else None
    declared = declared or html_body_declared_encoding(body)
    if declared:
        enc = resolve_encoding(declared)
        if enc and enc.replace("-", "").lower() == "utf8":
            # Declared UTF-8 but invalid: the broken bytes (or the whole page) are
            # almost always Windows-1252; read those as that, the rest as UTF-8.
            return decode_utf8_lenient(body)
        if enc:
            try:
                return body.decode(enc, errors="replace")
            except LookupError:
                pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.encoding:
            return body.decode(best.encoding, errors="replace")
    except Exception:  # noqa: BLE001 - detection is a best effort; cp1252 below never fails
        pass
    return body.decode("cp1252", errors="replace")


# -- not-article verdicts ---------------------------------------------------------------

_BLOCK_TITLE = re.compile(
    r"access denied|attention required|just a moment|are you a robot|forbidden|\b40[134]\b|\b50[023]\b|"
    r"zugriff verweigert|seite nicht gefunden|page not found|captcha|bot protection|security check",
    re.IGNORECASE,
)
_CONSENT = re.compile(
    r"cookie|einwilligung|zustimm|akzeptier|consent|datenschutz(?:erklärung|einstellungen)|"
    r"tracking|pur[- ]abo|werbefrei|personalisierte werbung|partner|widerruf",
    re.IGNORECASE,
)


def _verdict_before_body(html: str) -> None:
    head = html[:2000].lstrip()
    if not head:
        raise NotArticle("empty", "no content")
    if not re.search(
        r"<\s*(?:!doctype\s+html|html|head|body|div|p|article|meta|title)\b",
        html[:20000],
        re.IGNORECASE,
    ):
        raise NotArticle("not_html", "no HTML markup in the document")


def _is_article_page(pm: PageMeta) -> bool:
    """The page declares itself an article (JSON-LD type, og:type, a publication time)."""
    return bool(pm.jsonld_types & ARTICLE_TYPES) or (pm.og_type or "").lower() == "article"


def _verdict_after_body(text: str, pm: PageMeta, tree: HtmlElement) -> None:
    title = pm.title or ""
    if len(text) < 1500 and _BLOCK_TITLE.search(title) and not _is_article_page(pm):
        raise NotArticle("block_page", f"title {title[:80]!r}")
    if len(text) < 1500:
        hits = {m.group(0).lower()[:6] for m in _CONSENT.finditer(text)}
        if len(hits) >= 4:
            raise NotArticle("consent_wall", f"consent vocabulary in a {len(text)}-char body")
    if len(text) < MIN_ARTICLE_CHARS:
        if not _is_article_page(pm) and _link_heavy(tree):
            raise NotArticle("index_page", f"{len(text)} chars of body between many headline links")
        raise NotArticle("too_short", f"{len(text)} chars of body (minimum {MIN_ARTICLE_CHARS})")
    if not _is_article_page(pm) and _is_root(pm.canonical_url) and _link_heavy(tree):
        raise NotArticle("index_page", "site front page with many headline links")


def _link_heavy(tree: HtmlElement) -> bool:
    """Many headline-length links: the shape of a front page or section index."""
    n = 0
    for a in tree.iterfind(".//a[@href]"):
        t = a.text_content()
        if len(t) >= 40:
            n += 1
            if n >= 25:
                return True
    return False


def _is_root(url: str | None) -> bool:
    return url is not None and urlsplit(url).path.strip("/") == ""


# -- body choice ------------------------------------------------------------------------

_WORDS = re.compile(r"\w+")


def _shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    toks = _WORDS.findall(text.lower())
    return {tuple(toks[i : i + n]) for i in range(max(0, len(toks) - n + 1))}


def choose_body(extracted: str, article_body: str | None) -> tuple[str, str]:
    """Pick trafilatura's body or JSON-LD articleBody; returns (text, source).

    articleBody is the publisher's own statement of the article, free of captions
    and teasers, but often a paywall teaser, a different version, or longer than
    what is visible. It replaces trafilatura's text only when
      - almost all of it is on the page (>= 95% of its word 4-grams occur in
        trafilatura's text): the same article, not another version; and
      - it is 60-100% as long as trafilatura's text: not a teaser, and whatever
        trafilatura has beyond it is page furniture the publisher did not count;
    or when trafilatura found (almost) nothing.
    """
    if not article_body or len(article_body) < MIN_ARTICLE_CHARS:
        return extracted, "trafilatura"
    if len(extracted) < MIN_ARTICLE_CHARS:
        return article_body, "jsonld"
    ab, ex = _shingles(article_body), _shingles(extracted)
    if not ab:
        return extracted, "trafilatura"
    contained = len(ab & ex) / len(ab)
    if contained >= 0.95 and 0.6 * len(extracted) <= len(article_body) <= len(extracted):
        return article_body, "jsonld"
    return extracted, "trafilatura"


# Text nodes of the page body that contain a string (lxml evaluates it in C).
_TEXT_CONTAINING = etree.XPath("//body//text()[contains(., $p)]")


def _shown_standfirst(tree: HtmlElement, description: str | None, body: str) -> str | None:
    """The page's standfirst when trafilatura left it out, else None.

    The standfirst (lead, "Vorspann") is what the page's description says, shown in
    an element of its own above the text; trafilatura often takes it for header
    furniture. It is used only when an element's whole text is the description
    (give or take 30%): a description that appears nowhere is a search snippet.
    """
    if not description or len(description) < 40:
        return None
    if description.strip() in body:
        return None  # the body has it verbatim (else checked word by word below)
    probe = description.strip()[:24]
    want = text_key(description)
    if len(want) < 40:
        return None
    for node in _TEXT_CONTAINING(tree, p=probe):
        el = node.getparent()
        if el is None or el.tag in ("script", "style", "noscript", "template", "meta"):
            continue
        text = " ".join(el.text_content().split())
        k = text_key(text)
        if want in k and len(k) <= 1.3 * len(want):
            return None if want in text_key(body) else text
    return None


# Paragraphs of at most 80 characters, selected in C (most <p> of a page are longer).
_SHORT_P = etree.XPath("//p[string-length(normalize-space()) <= 80]")


def _credit_lines_beside(tree: HtmlElement, body: str) -> list[str]:
    """Short credit paragraphs ("Mit Material von Reuters", "(dpa, AFP)") next to the text.

    trafilatura's precision mode drops a short italic line under the article, which is
    where many outlets put the agency credit. A <p> of at most 80 characters that
    credits an agency counts when a sibling <p> is part of the extracted body: it
    stands among the article's paragraphs, not in a teaser elsewhere on the page.
    """
    found: list[str] = []
    body_key = None
    for p in _SHORT_P(tree):
        text = " ".join(p.text_content().split())
        if not text or not mentions_agency(text):
            continue
        if text in body or not credits_in_text(text):
            continue
        parent = p.getparent()
        if parent is None:
            continue
        body_key = body_key if body_key is not None else text_key(body)
        for sib in parent.iterchildren("p"):
            k = text_key(sib.text_content())[:80]
            if sib is not p and len(k) >= 40 and k in body_key:
                found.append(text)
                break
    return found


# -- the extractor ------------------------------------------------------------------------


def _fallback_date(tree: HtmlElement, url: str) -> str | None:
    """htmldate's day when the page has no structured date (markup and URL heuristics)."""
    from htmldate import find_date

    try:
        return find_date(tree, extensive_search=False, original_date=True, url=url)
    except Exception:  # noqa: BLE001 - a date heuristic must never lose the article
        return None


def _trafilatura_text(
    tree: HtmlElement, url: str, *, favor_precision: bool, fast: bool = False
) -> str:
    doc = trafilatura.bare_extraction(
        tree, url=url, favor_precision=favor_precision, fast=fast, **TRAFILATURA_OPTIONS
    )
    if doc is None:
        return ""
    assert not isinstance(doc, dict)  # (a Document: as_dict is not set)
    return unicodedata.normalize("NFC", doc.text) if doc.text else ""


def _article_text(tree: HtmlElement, url: str) -> str:
    """Body of a page that declares itself an article (see PRECISION_RETRY_CHARS)."""
    raw = _trafilatura_text(tree, url, favor_precision=True, fast=True)
    if len(raw) < PRECISION_RETRY_CHARS:
        full = _trafilatura_text(tree, url, favor_precision=True)
        balanced = _trafilatura_text(tree, url, favor_precision=False)
        raw = max(raw, full, balanced, key=len)  # the first of equal lengths
    return raw


def _same_site_canonical(canonical: str | None, url: str) -> str | None:
    """rel=canonical only when it names an article page of the same site.

    Some sites point every page's canonical at the front page; trusting that would
    merge all their articles into one row.
    """
    if not canonical:
        return None
    c, u = urlsplit(canonical), urlsplit(url)
    if c.scheme not in ("http", "https") or not c.hostname:
        return None
    if u.hostname and c.hostname.removeprefix("www.") != u.hostname.removeprefix("www."):
        return None
    if c.path.strip("/") == "":
        return None
    return canonical


def extract_article(html: str, url: str) -> Extracted:
    """Extract one article; raises NotArticle(reason, detail) when the page is not one."""
    if not html or not html.strip():
        raise NotArticle("empty", "no content")
    _verdict_before_body(html)
    tree = load_html(html)
    if tree is None:
        raise NotArticle("empty", "the HTML parser found no document")
    pm = read_page_meta(tree, url)
    # Precision mode where the page declares itself an article: its main text is
    # one well-marked block, so whatever trafilatura is unsure about is furniture.
    # Other pages (blogs, institutional pages) keep the balanced default.
    if _is_article_page(pm):
        raw = _article_text(tree, url)
    else:
        raw = _trafilatura_text(tree, url, favor_precision=False)
    body, source = choose_body(raw, pm.article_body)
    if pm.language in STANDFIRST_LANGUAGES:
        lead = _shown_standfirst(tree, pm.description, body)
        if lead:
            body = lead + "\n" + body
    text = clean_text(body, headlines=pm.headlines)
    _verdict_after_body(text, pm, tree)
    # Only for pages kept as articles: htmldate's markup search costs ~2 ms a page.
    published = pm.published or _fallback_date(tree, url)
    credit_lines = _credit_lines_beside(tree, body)
    agencies = find_agencies(
        "\n".join([body, *credit_lines]),
        authors=pm.authors,
        extra=pm.ld_credits,
        lead=pm.description,
    )
    return Extracted(
        title=pm.title,
        text=text,
        published=published,
        modified=pm.modified,
        authors=pm.authors,
        language=pm.language,
        site_name=pm.site_name,
        description=pm.description,
        keywords=pm.keywords,
        image=pm.image,
        paywall=pm.paywall,
        agencies=agencies,
        canonical_url=_same_site_canonical(pm.canonical_url, url),
        body_source=source,
    )


def extract_text_record(
    text: str, *, title: str | None = None, published: str | None = None
) -> Extracted:
    """An already-extracted text (e.g. a docs.jsonl record): same cleanup and attribution."""
    text = text or ""
    cleaned = clean_text(text, headlines=[title] if title else ())
    if not cleaned:
        raise NotArticle("empty", "the record has no text")
    from crawler.metadata import parse_date

    return Extracted(
        title=" ".join(title.split()) if title else None,
        text=cleaned,
        published=parse_date(published) or published,
        agencies=find_agencies(text),
        body_source="text",
    )

"""Canonical article URLs: one spelling per article, before anything is fetched or stored.

Article ids are derived from the canonical URL (`crawler.store.article_id`), so two
spellings of one URL (tracking parameters, `#comments`, `:443`, upper-case host) must
collapse to the same string here, or the same article is stored twice.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

import lxml.html
import tld
from lxml import etree

try:  # courlan's list of tracking parameters is well kept; fall back if it moves.
    from courlan.clean import TRACKERS_RE as _COURLAN_TRACKERS
except ImportError:  # pragma: no cover - depends on the installed courlan
    _COURLAN_TRACKERS = re.compile(r"^(?:utm|mc|mtm|pk|oly|vero)_|^(?:fbc|gc|dc|ms?c?l?k?)lid$")

# Trackers courlan's pattern misses that German outlets use: Webtrekk/Mapp (`wt_mc`,
# heise), AT Internet (`at_medium`), Comscore (`ns_campaign`) and a few plain keys.
_EXTRA_TRACKERS = re.compile(r"^(?:wt[._]|at_|ns_|trk)|^(?:cmp|cmpid|icid|ocid|ito|rss|wtmc)$")

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left alone when re-quoting a path; `%` keeps existing escapes intact.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Template debris seen in real canonicals ("{{url}}", "${canonical}", "%7Burl%7D").
_TEMPLATE_DEBRIS = re.compile(r"[{}]|%7b|%7d|\$\{", re.IGNORECASE)


def is_tracking_param(key: str) -> bool:
    """True for query keys that only track a click (utm_*, fbclid, wt_mc, ...)."""
    k = key.lower()
    return bool(_COURLAN_TRACKERS.search(k) or _EXTRA_TRACKERS.search(k))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, so `/a/./b/../c` and `/a/c` are one URL."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def _quote_path(path: str) -> str:
    # Upper-case existing escapes first (`%c3%a4` == `%C3%A4`), then escape what is unsafe
    # (spaces, umlauts) so a link as typed and as percent-encoded give one URL.
    path = _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), path)
    return quote(path, safe=_PATH_SAFE)


def _clean_query(query: str) -> str:
    # Pairs are kept as written (not decoded and re-encoded) so `?print` stays `?print`
    # and `%2F` stays `%2F`; only tracking keys go and the order becomes stable.
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        key = part.split("=", 1)[0]
        if is_tracking_param(unquote_plus(key)):
            continue
        pairs.append((key, part))
    pairs.sort(key=lambda kp: kp[0])  # stable: values of a repeated key keep their order
    joined = "&".join(p for _, p in pairs)
    joined = _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), joined)
    return quote(joined, safe=_QUERY_SAFE)


def _host(hostname: str) -> str | None:
    host = hostname.lower().rstrip(".")
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


def canonicalize(url: str, base: str | None = None) -> str | None:
    """The canonical spelling of an http(s) URL, or None if it is not one.

    Resolves `url` against `base`, lower-cases scheme and host (IDN as punycode), drops
    the default port, the fragment and tracking parameters, removes dot segments and
    sorts the remaining query by key (values of one key keep their order).
    """
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if base:
        try:
            url = urljoin(base.strip(), url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # bad IPv6 literal or port out of range
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if any(c.isspace() for c in parts.netloc):
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{auth}@{netloc}"
    path = _quote_path(_remove_dot_segments(parts.path or "/"))
    query = _clean_query(parts.query) if parts.query else ""
    return urlunsplit((scheme, netloc, path, query, ""))


def site_of(url: str) -> str | None:
    """The site a URL belongs to: its registered domain (`news.orf.at` -> `orf.at`).

    Hosts without a public suffix (127.0.0.1, localhost, *.test) are their own site,
    port included, so two local demo outlets on different ports stay apart.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    return _site_of_host(host, port)


@functools.lru_cache(maxsize=4096)
def _site_of_host(host: str, port: int | None) -> str:
    # Cached: a homepage has hundreds of links to a handful of hosts.
    fld = tld.get_fld(host, fix_protocol=True, fail_silently=True)
    if fld:
        return str(fld)
    return f"{host}:{port}" if port else host


def same_site(url: str, other: str) -> bool:
    """True when both URLs belong to one site (subdomains included)."""
    a = site_of(url)
    return a is not None and a == site_of(other)


def _is_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def _find_canonical(html: str) -> tuple[str | None, str | None, str | None]:
    """(<link rel=canonical> href, og:url content, <base href>) from the page head."""
    try:
        doc = lxml.html.document_fromstring(html)
    except ValueError:  # a str that still carries an XML encoding declaration
        try:
            doc = lxml.html.document_fromstring(html.encode("utf-8"))
        except (etree.ParserError, ValueError):
            return None, None, None
    except etree.ParserError:  # empty or whitespace-only document
        return None, None, None
    canonical = og_url = base_href = None
    for el in doc.iter("link", "meta", "base"):
        tag = el.tag
        if tag == "link" and canonical is None:
            rels = (el.get("rel") or "").lower().split()
            if "canonical" in rels and (el.get("href") or "").strip():
                canonical = el.get("href")
        elif tag == "meta" and og_url is None:
            prop = (el.get("property") or el.get("name") or "").strip().lower()
            if prop == "og:url" and (el.get("content") or "").strip():
                og_url = el.get("content")
        elif tag == "base" and base_href is None and el.get("href"):
            base_href = el.get("href")
    return canonical, og_url, base_href


def canonical_link(html: str, url: str, *, allow_cross_site: bool = False) -> str | None:
    """The page's own canonical URL (`rel=canonical`, else `og:url`), canonicalized.

    Returns None when the page names none or the one it names is bogus: not http(s),
    template debris, the site root for a page that is not the root, or another site's
    homepage. A canonical on another site is ignored too unless `allow_cross_site`:
    a syndicated agency story often points at the first publisher, and following it
    would file this outlet's copy under someone else's URL, hiding exactly the copy
    this project looks for.
    """
    page = canonicalize(url)
    if page is None or not html:
        return None
    canonical, og_url, base_href = _find_canonical(html)
    base = canonicalize(base_href, page) if base_href else page
    for candidate in (canonical, og_url):
        if not candidate or _TEMPLATE_DEBRIS.search(candidate):
            continue
        resolved = canonicalize(candidate, base or page)
        if resolved is None:
            continue
        if _is_root(resolved) and not _is_root(page):
            continue  # "canonical = homepage" is a CMS default, never the article
        if not same_site(resolved, page) and not allow_cross_site:
            continue
        return resolved
    return None

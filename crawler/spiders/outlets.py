"""The one spider: discover article URLs of every listed outlet and fetch the new ones.

Discovery per outlet: its RSS/Atom/JSON feeds, Google News sitemaps and sitemaps (with
indexes and gzip); when it lists no sitemap, the `Sitemap:` lines of its robots.txt;
when it has none of these, a depth-1 crawl of its homepage. Dates from feeds and news
sitemaps are used *before* fetching: entries older than the crawl window are skipped.
Article URLs are canonicalized before anything is fetched or stored, and URLs already
in the database are not fetched again.

Parsing is done by pure functions in `crawler.discovery` and `crawler.urls`; this module
only wires them to requests, and records every outcome through `RunRecorder`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.discovery import (
    DiscoveryError,
    Link,
    homepage_links,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)
from crawler.extract import decode_html
from crawler.items import FetchedPage
from crawler.middlewares import WARC_CLOSE, WARC_ERROR_STAT
from crawler.runlog import RunRecorder, acquire_lock, release_lock
from crawler.seeds import Outlet, load_outlets
from crawler.store import Store, now_iso
from crawler.urls import canonical_link, canonicalize


def parse_since(
    value: str | None, *, default_hours: float, now: datetime | None = None, option: str = "--since "
) -> datetime:
    """The crawl window's start: '6h', '2d', '90m', an ISO date or datetime, or the default.

    `option`: how the user wrote it, for the error ("--since " for `newsdedup crawl`,
    "-a since=" for `scrapy crawl`)."""
    now = now or datetime.now(UTC)
    if not value:
        return now - timedelta(hours=default_hours)
    value = value.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mhdw])", value)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return now - timedelta(**{unit: float(m.group(1))})
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{option}{value!r}: give a duration such as 6h, 2d, 90m or a date such as 2025-03-14"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def outlet_ids(arg: str | None) -> list[str]:
    """The outlet ids of `-a outlet=a,b` (none: every outlet)."""
    return [o.strip() for o in (arg or "").split(",") if o.strip()]


def select_outlets(outlets: list[Outlet], ids: list[str] | None) -> list[Outlet]:
    """The outlets named by `ids` (all when empty); ValueError names unknown ids."""
    if not ids:
        return outlets
    unknown = sorted(set(ids) - {o.id for o in outlets})
    if unknown:
        raise ValueError(f"unknown outlet id(s): {', '.join(unknown)} (see `newsdedup outlets`)")
    return [o for o in outlets if o.id in ids]


def failure_reason(failure: Failure) -> tuple[str, int | None]:
    """A short machine-readable reason and the HTTP status (if any) of a failed request."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}", exc.response.status
    if isinstance(exc, IgnoreRequest):
        msg = str(exc)
        if "robots.txt" in msg:
            return "robots_disallowed", None
        if "redirect" in msg:
            return "redirect_loop", None
        if "Retry-After" in msg:
            return "retry_after_too_long", None
        return "ignored", None
    table: list[tuple[tuple[type[BaseException], ...], str]] = [
        ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
        ((DownloadCancelledError,), "too_large"),
        ((DownloadConnectionRefusedError, ConnectionRefusedError), "connection_refused"),
        ((CannotResolveHostError, DNSLookupError), "dns_error"),
        ((ResponseDataLossError, ConnectionLost, ResponseNeverReceived), "connection_lost"),
        ((DownloadFailedError,), "download_failed"),
    ]
    for types, reason in table:
        if isinstance(exc, types):
            return reason, None
    if type(exc).__name__ == "CancelledError":  # twisted's cancel on DOWNLOAD_MAXSIZE
        return "too_large", None
    return type(exc).__name__, None


class OutletsSpider(scrapy.Spider):
    """Crawl the outlets of a seeds file into the SQLite store.

    Arguments (`scrapy crawl outlets -a NAME=VALUE`): `outlet` (comma-separated ids),
    `since` (6h, 2d or an ISO date). Settings: NEWSDEDUP_DB, NEWSDEDUP_SEEDS and the
    other NEWSDEDUP_* settings in `crawler/settings.py`.
    """

    name = "outlets"

    def __init__(self, *args: Any, outlet: str | None = None, since: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outlet_filter = outlet_ids(outlet)
        self.since_arg = since

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OutletsSpider:
        spider: OutletsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider._setup(crawler.settings)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._spider_error, signal=signals.spider_error)
        return spider

    def _setup(self, settings: Any) -> None:
        outlets = select_outlets(load_outlets(settings.get("NEWSDEDUP_SEEDS")), self.outlet_filter)
        self.outlets: dict[str, Outlet] = {o.id: o for o in outlets}
        self.cutoff = parse_since(
            self.since_arg,
            default_hours=settings.getfloat("NEWSDEDUP_SINCE_HOURS"),
            option="-a since=",
        )
        self.max_per_outlet = settings.getint("NEWSDEDUP_MAX_ARTICLES_PER_OUTLET")
        self.max_children = settings.getint("NEWSDEDUP_MAX_CHILD_SITEMAPS")
        db_path = settings.get("NEWSDEDUP_DB")
        self.lock = acquire_lock(db_path)
        self.store = Store(db_path)
        self.store.upsert_outlets(o.to_row() for o in outlets)
        self.recorder = RunRecorder(
            self.store,
            command=settings.get("NEWSDEDUP_COMMAND", "scrapy crawl outlets"),
            since=self.cutoff.isoformat(timespec="seconds"),
            outlets=list(self.outlets),
        )
        self.seen: set[str] = set()  # canonical URLs handled in this run
        self.requested: Counter[str] = Counter()  # article requests per outlet
        self.reached: set[str] = set()  # outlets with at least one listing answered
        # Validators of listings read in full; saved only when the run finishes, so a
        # killed run re-reads its feeds next time instead of trusting a 304.
        self.pending_validators: dict[str, tuple[str | None, str | None, int]] = {}

    # -- requests -------------------------------------------------------------------

    def _meta(self, outlet: str, kind: str, **extra: Any) -> dict[str, Any]:
        # download_slot: politeness per outlet, not per host:port.
        return {"download_slot": outlet, "outlet": outlet, "kind": kind, **extra}

    def _listing(self, url: str, outlet: str, kind: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.on_error,
            cb_kwargs={"outlet": outlet, "kind": kind},
            meta=self._meta(outlet, kind, conditional=True, listing_url=url,
                            handle_httpstatus_list=[304]),
            dont_filter=True,
        )

    def _robots(self, outlet: Outlet) -> scrapy.Request:
        return scrapy.Request(
            urljoin(outlet.homepage or next(u for _, u in outlet.sources()), "/robots.txt"),
            callback=self.parse_robots,
            errback=self.on_error,
            cb_kwargs={"outlet": outlet.id},
            meta=self._meta(outlet.id, "robots", dont_obey_robotstxt=True),
            dont_filter=True,
        )

    def _homepage(self, outlet: Outlet) -> scrapy.Request:
        # Seeds validation guarantees a homepage for an outlet with no feeds or sitemaps.
        assert outlet.homepage is not None
        return scrapy.Request(
            outlet.homepage,
            callback=self.parse_homepage,
            errback=self.on_error,
            cb_kwargs={"outlet": outlet.id},
            meta=self._meta(outlet.id, "homepage"),
            dont_filter=True,
        )

    async def start(self) -> AsyncIterator[Any]:
        for outlet in self.outlets.values():
            for kind, url in outlet.sources():
                yield self._listing(url, outlet.id, kind)
            if not (outlet.news_sitemaps or outlet.sitemaps):
                # robots.txt may name sitemaps; without them and feeds, the homepage is read.
                yield self._robots(outlet)

    # -- listings ---------------------------------------------------------------------

    def parse_listing(self, response: Response, outlet: str, kind: str) -> Iterator[Any]:
        self.reached.add(outlet)
        url = response.meta["listing_url"]
        if response.status == 304:
            self.recorder.not_modified(outlet, url, kind)
            return
        try:
            if kind == "feed":
                links: list[Link] = parse_feed(
                    response.body, response.url, _header(response, "Content-Type")
                )
                children: list[str] = []
            else:
                links, children = parse_sitemap(response.body, response.url)
        except DiscoveryError as exc:
            if exc.reason == "no_entries":  # read fine, lists nothing (a quiet news sitemap)
                self.recorder.skipped(outlet, url, kind, f"{kind}_no_entries",
                                      status=response.status, detail=str(exc))
            else:
                self.recorder.failed(outlet, url, kind, f"{kind}_{exc.reason}",
                                     status=response.status, detail=str(exc))
            return
        self.recorder.listing_ok(outlet, url, kind, response.status, len(links) + len(children))
        self.pending_validators[url] = (
            _header(response, "ETag"), _header(response, "Last-Modified"), response.status
        )
        for child in children[: self.max_children]:
            yield self._listing(child, outlet, kind)
        if len(children) > self.max_children:
            self.recorder.skipped(outlet, url, kind, "child_sitemaps_over_limit",
                                  detail=f"{len(children) - self.max_children} not followed")
        yield from self._articles(links, outlet, kind)

    def parse_robots(self, response: Response, outlet: str) -> Iterator[Any]:
        self.reached.add(outlet)
        text = response.text if isinstance(response, TextResponse) else ""
        sitemaps = sitemaps_from_robots(text, response.url)
        self.recorder.listing_ok(outlet, response.url, "robots", response.status, len(sitemaps))
        for url in sitemaps[: self.max_children]:
            yield self._listing(url, outlet, "sitemap")
        if not sitemaps and not self.outlets[outlet].feeds:
            yield self._homepage(self.outlets[outlet])

    def parse_homepage(self, response: Response, outlet: str) -> Iterator[Any]:
        self.reached.add(outlet)
        if not isinstance(response, TextResponse):
            self.recorder.failed(outlet, response.url, "homepage", "homepage_not_html",
                                 status=response.status)
            return
        html = decode_html(response.body, _header(response, "Content-Type"))
        links = homepage_links(html, response.url)
        self.recorder.listing_ok(outlet, response.url, "homepage", response.status, len(links))
        yield from self._articles(links, outlet, "homepage")

    # -- articles ---------------------------------------------------------------------

    def _articles(self, links: Iterable[Link], outlet: str, source: str) -> Iterator[scrapy.Request]:
        rec = self.recorder
        spec = self.outlets[outlet]
        fresh: list[tuple[str, Link]] = []
        for link in links:
            url = canonicalize(link.url)
            if url is None:
                rec.discovered(outlet)
                rec.skipped(outlet, link.url, "article", "bad_url", detail=f"listed in {source}")
                continue
            if url in self.seen:
                continue
            self.seen.add(url)
            rec.discovered(outlet)
            if not spec.accepts(url):
                rec.skipped(outlet, url, "article", "denied_by_pattern", log=False)
            elif link.published is not None and link.published < self.cutoff:
                rec.skipped(outlet, url, "article", "too_old", log=False)
            else:
                fresh.append((url, link))
        known = self.store.known(u for u, _ in fresh)
        for url, link in fresh:
            if url in known:
                rec.skipped(outlet, url, "article", "known", log=False)
                continue
            if self.requested[outlet] >= self.max_per_outlet:
                rec.skipped(outlet, url, "article", "over_limit", log=False)
                continue
            self.requested[outlet] += 1
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.on_error,
                cb_kwargs={
                    "outlet": outlet,
                    "listed_title": link.title,
                    "listed_published": link.published.isoformat() if link.published else None,
                },
                meta=self._meta(outlet, "article", article_url=url),
                # The spider deduplicates by canonical URL itself; Scrapy's filter would
                # also silently drop the second hop of a redirect loop.
                dont_filter=True,
            )

    def parse_article(self, response: Response, outlet: str, listed_title: str | None,
                      listed_published: str | None) -> Iterator[FetchedPage]:
        rec = self.recorder
        rec.fetched(outlet)
        requested = response.meta["article_url"]
        ctype = _header(response, "Content-Type") or ""
        if not isinstance(response, TextResponse) or (ctype and "html" not in ctype.lower()):
            rec.skipped(outlet, requested, "article", "not_html", status=response.status,
                        detail=ctype or type(response).__name__)
            return
        html = decode_html(response.body, ctype or None)
        url = canonical_link(html, response.url) or canonicalize(response.url) or requested
        if url != requested:
            if url in self.seen or self.store.known([url]):
                # Listed under another URL than its canonical one, which we have: next
                # run, the listed URL is known too.
                self.store.remember_url(requested, reason="alias", article_url=url)
                rec.skipped(outlet, requested, "article", "duplicate_canonical", detail=url)
                return
            self.seen.add(url)
        yield FetchedPage(
            url=url,
            listed_url=requested,
            outlet=outlet,
            html=html,
            status=response.status,
            fetched=now_iso(),
            listed_title=listed_title,
            listed_published=listed_published,
        )

    # -- errors and the end of the run -----------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get("kind", "article")
        outlet = request.meta.get("outlet", "?")
        reason, status = failure_reason(failure)
        url = request.meta.get("listing_url") or request.meta.get("article_url") or request.url
        if kind == "robots":
            # No robots.txt is no sitemap: fall back to the homepage if there is no feed.
            self.recorder.skipped(outlet, url, kind, f"robots_{reason}", status=status)
            if not self.outlets[outlet].feeds:
                yield self._homepage(self.outlets[outlet])
            return
        if reason == "robots_disallowed":
            self.recorder.skipped(outlet, url, kind, reason)
            return
        if kind == "article" and status is not None:
            self.recorder.fetched(outlet)
        full = reason if kind == "article" else f"{kind}_{reason}"
        self.recorder.failed(outlet, url, kind, full, status=status,
                             detail=str(failure.value)[:300])

    def _spider_error(self, failure: Failure, response: Response, spider: Any) -> None:
        outlet = response.meta.get("outlet", "?")
        self.recorder.failed(outlet, response.url, response.meta.get("kind", "?"), "spider_error",
                             status=response.status, detail=repr(failure.value)[:300])

    def _closed(self, spider: Any, reason: str) -> None:
        status = "ok" if reason == "finished" else ("interrupted" if reason == "shutdown" else "failed")
        error = None if reason == "finished" else f"closed: {reason}"
        if status == "ok" and self.outlets and not self.reached:
            status, error = "failed", "no outlet could be reached"
        if status == "ok":
            for url, (etag, modified, code) in self.pending_validators.items():
                self.store.save_validators(url, etag=etag, last_modified=modified, status=code)
        stats = self.crawler.stats
        requests = int(stats.get_value("downloader/request_count", 0)) if stats else 0
        self.crawler.signals.send_catch_log(signal=WARC_CLOSE)  # (its error is in `stats`)
        # A WARC writing or closing failure does not fail the run (the articles are stored) but is
        # said where the run's outcome is read.
        warc_error = stats.get_value(WARC_ERROR_STAT) if stats else None
        if warc_error:
            error = f"{error}; {warc_error}" if error else warc_error
        self.recorder.finish(status, requests=requests, error=error)
        self.store.close()
        release_lock(self.lock)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None

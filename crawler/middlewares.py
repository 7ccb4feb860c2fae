"""Downloader middlewares: Retry-After on 429/503, conditional GET for feeds and sitemaps,
TDM opt-out probes, and the WARC archive of every request and response."""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from crawler.tdm import TdmState, meta_reservation, parse_tdmrep, robots_shut_out
from crawler.warc import RotatingWarcWriter

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    """Honour `Retry-After` on 429 and 503, which Scrapy's RetryMiddleware ignores.

    The request waits that long before it is retried, and the outlet's download slot is
    held back for the same time, so the other queued requests of that outlet wait too.
    A wait longer than NEWSDEDUP_RETRY_AFTER_MAX gives the request up (IgnoreRequest),
    and after RETRY_TIMES waits the 429/503 response is passed on as an HTTP error.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("NEWSDEDUP_RETRY_AFTER_MAX")
        self.max_times = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in (429, 503):
            return response
        header = response.headers.get("Retry-After")
        wait = retry_after_seconds(header.decode("latin-1") if header else None)
        if wait is None:
            return response  # RetryMiddleware retries it at once, as usual
        tries = request.meta.get("retry_after_times", 0)
        if tries >= self.max_times:
            return response
        if wait > self.max_wait:
            raise IgnoreRequest(
                f"Retry-After {wait:.0f}s on {response.status} exceeds "
                f"NEWSDEDUP_RETRY_AFTER_MAX={self.max_wait:.0f}s"
            )
        self._hold_slot(request, wait)
        logger.info("%s answered %s, Retry-After %.1fs", request.url, response.status, wait)
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_times"] = tries + 1
        return retry

    def _hold_slot(self, request: Request, wait: float) -> None:
        # The downloader waits `delay - (now - lastseen)` before a slot's next request
        # (Scrapy >= 2.19 keeps lastseen on the monotonic clock); moving lastseen forward
        # holds the whole slot for `wait` seconds. Without a delay there is nothing to hold.
        downloader = getattr(self.crawler.engine, "downloader", None)
        slot = getattr(downloader, "slots", {}).get(request.meta.get("download_slot"))
        if slot is not None and slot.delay:
            slot.lastseen = max(slot.lastseen, time.monotonic() + wait - slot.delay)


class ConditionalGetMiddleware:
    """Send If-None-Match / If-Modified-Since for requests marked `meta["conditional"]`.

    The validators come from the store's `http_cache` table (saved by the spider only
    when a run finishes, so a killed run never makes the next one trust a 304).
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalGetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("conditional"):
            return None
        store = getattr(self.crawler.spider, "store", None)
        if store is None:
            return None
        validators = store.validators(request.meta.get("listing_url", request.url))
        if "etag" in validators:
            request.headers.setdefault("If-None-Match", validators["etag"])
        if "last_modified" in validators:
            request.headers.setdefault("If-Modified-Since", validators["last_modified"])
        return None


# Scrapy stats key under which the WARC writer leaves the error that stopped it.
WARC_ERROR_STAT = "newsdedup/warc_error"
# Signal: close the WARC file now. The spider sends it as it closes, before it records
# the run, so that an error closing the last file is in the run's record too
# (`spider_closed` reaches the spider before this middleware).
WARC_CLOSE = object()


class WarcMiddleware:
    """Write every request and response of the crawl to rotating gzipped WARC files.

    Placed next to the downloader (NEWSDEDUP_WARC in crawler/settings.py), so it sees
    the request with every header the other middlewares added and the response as it
    came, before decompression and before redirects are followed: each hop of a redirect,
    each 304 and each error page is recorded. The files are written by
    `crawler.warc.RotatingWarcWriter`; `newsdedup ingest FILE.warc.gz` reads them back.
    """

    def __init__(self, crawler: Any, directory: str, max_size: int) -> None:
        self.writer = RotatingWarcWriter(
            directory, max_size=max_size,
            info={"robots": "obey" if crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                  "http-header-user-agent": crawler.settings.get("USER_AGENT", "")},
        )
        self.failed = False
        self.closed = False
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWSDEDUP_WARC"):
            raise NotConfigured
        directory = warc_dir_of(settings)
        mw = cls(crawler, directory, settings.getint("NEWSDEDUP_WARC_MAX_SIZE"))
        crawler.signals.connect(mw.close, signal=WARC_CLOSE)
        crawler.signals.connect(mw.close, signal=signals.spider_closed)
        return mw

    def process_response(self, request: Request, response: Response) -> Response:
        if self.failed or request.meta.get("robots_reused"):
            return response
        meta = {k: request.meta[k] for k in ("outlet", "kind") if request.meta.get(k)}
        if request.meta.get("kind") == "article":
            for key in ("listed_title", "listed_published"):
                if request.cb_kwargs.get(key):
                    meta[key] = request.cb_kwargs[key]
        try:
            self.writer.write(
                url=response.url,
                method=request.method,
                request_headers=_header_list(request.headers),
                request_body=request.body,
                status=response.status,
                response_headers=_header_list(response.headers),
                body=response.body,
                meta=meta,
            )
        except OSError as exc:
            # The crawl goes on (articles are still stored); the archive stops here, and
            # the run records why (`crawl_runs.error`, the summary's `error:` line).
            self.failed = True
            message = f"WARC writing stopped at {response.url}: {exc}"
            self.stats.set_value(WARC_ERROR_STAT, message)
            logger.error("%s; the crawl continues without WARC", message)
        return response

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.writer.close()
        except OSError as exc:
            message = f"closing the WARC file failed: {exc}"
            if not self.stats.get_value(WARC_ERROR_STAT):
                self.stats.set_value(WARC_ERROR_STAT, message)
            logger.error("%s", message)


def warc_dir_of(settings: Any) -> str:
    """The crawl's WARC directory: NEWSDEDUP_WARC_DIR, or the default beside the database."""
    return settings.get("NEWSDEDUP_WARC_DIR") or warc_dir_for(settings.get("NEWSDEDUP_DB"))


def warc_dir_for(db: str | None) -> str:
    """Default WARC directory: `<database name>-warc/` beside the database."""
    path = Path(db or "news.db")
    return str(path.with_name(path.stem + "-warc"))


def _header_list(headers: Any) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        for value in values:
            out.append((name.decode("latin-1"), value.decode("latin-1")))
    return out


class TdmOptOutMiddleware:
    """Record per outlet what it says to text-and-data-mining and AI crawlers.

    Before an outlet's first request goes out (its other requests wait for it), its
    robots.txt (read for the agents of NEWSDEDUP_TDM_AGENTS) and
    `/.well-known/tdmrep.json` are fetched through the engine, in the outlet's download
    slot. That robots.txt response then answers the crawl's other requests for it
    (Scrapy's RobotsTxtMiddleware, the spider's look for `Sitemap:` lines), so it is
    fetched once per run and written to WARC once. Every later response is watched for a
    `tdm-reservation` header or meta tag. The verdict (crawler/tdm.py) is stored in
    `outlet_tdm`; `newsdedup export` leaves opted-out outlets out. A header seen in an
    earlier run is kept until a response says `tdm-reservation: 0`.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.agents = crawler.settings.getlist("NEWSDEDUP_TDM_AGENTS")
        self.states: dict[str, TdmState] = {}  # outlet -> its signals, once probed
        self.robots: dict[str, Response] = {}  # robots.txt URL -> the probe's response
        self.probing: dict[str, Deferred[None]] = {}  # outlet -> done when its probe is

    @classmethod
    def from_crawler(cls, crawler: Any) -> TdmOptOutMiddleware:
        if not crawler.settings.getbool("NEWSDEDUP_TDM_CHECK"):
            raise NotConfigured
        return cls(crawler)

    async def process_request(self, request: Request) -> Response | None:
        if request.meta.get("tdm_probe"):
            return None
        outlet = request.meta.get("outlet")
        if outlet in self.probing:  # the outlet's probe is under way: after it
            await maybe_deferred_to_future(self.probing[outlet])
        elif outlet and outlet not in self.states:
            self.states[outlet] = state = TdmState(outlet)
            done: Deferred[None] = Deferred()
            self.probing[outlet] = done
            store = getattr(self.crawler.spider, "store", None)
            if store is not None:  # carry a header seen in an earlier run over
                old = store.tdm_row(outlet)
                if old:
                    state.header_reservation = old["header_reservation"]
                    state.header_policy = old["header_policy"]
                    state.header_url = old["header_url"]
            try:
                await self._probe(state, request)
                self._save(state)
            finally:
                del self.probing[outlet]
                done.callback(None)
        # The robots.txt the probe fetched answers the later requests for it (Scrapy's
        # RobotsTxtMiddleware, the spider looking for `Sitemap:` lines): fetched once.
        probed = self.robots.get(request.url)
        if probed is None:
            return None
        request.meta["robots_reused"] = True  # (not written to WARC again)
        return probed.replace(request=request)

    async def _probe(self, state: TdmState, request: Request) -> None:
        spec = getattr(self.crawler.spider, "outlets", {}).get(state.outlet)
        home = getattr(spec, "homepage", None) or urljoin(request.url, "/")
        robots_url = urljoin(home, "/robots.txt")
        robots = await self._fetch(robots_url, state.outlet, obey=False)
        if robots is not None:
            # (an answer to keep; a 429 or 5xx, already retried, is asked again by whoever
            # needs it next, as it would be without the probe)
            if robots.status < 500 and robots.status != 429:
                self.robots[robots_url] = robots
            state.robots_status = robots.status
            if robots.status == 200:
                text = robots.body.decode("utf-8", errors="replace")
                state.robots_disallowed, state.robots_everyone = robots_shut_out(
                    text, home, self.agents)
        rep = await self._fetch(urljoin(home, "/.well-known/tdmrep.json"), state.outlet, obey=True)
        if rep is not None:
            state.tdmrep_status = rep.status
            if rep.status == 200:
                try:
                    state.tdmrep = parse_tdmrep(rep.body)
                except ValueError as exc:
                    state.tdmrep_error = str(exc)

    async def _fetch(self, url: str, outlet: str, *, obey: bool) -> Response | None:
        meta = {"tdm_probe": True, "download_slot": outlet, "outlet": outlet, "kind": "tdm",
                "dont_obey_robotstxt": not obey}
        try:
            return await self.crawler.engine.download_async(
                Request(url, meta=meta, callback=NO_CALLBACK, dont_filter=True))
        except Exception as exc:  # unreachable, disallowed: nothing to read, not an opt-out
            logger.debug("TDM probe %s failed: %r", url, exc)
            return None

    def process_response(self, request: Request, response: Response) -> Response:
        outlet = request.meta.get("outlet")
        state = self.states.get(outlet) if outlet else None
        if state is None:
            return response
        value = response.headers.get("tdm-reservation")
        policy = response.headers.get("tdm-policy")
        if value is None and request.meta.get("kind") == "article":
            found = meta_reservation(response.body[:65536])
            value = found.encode() if found else None
        if value is None:
            return response
        reservation = value.decode("latin-1").strip()
        if reservation != state.header_reservation:
            state.header_reservation = reservation
            state.header_policy = policy.decode("latin-1") if policy else None
            state.header_url = response.url
            self._save(state)
        return response

    def _save(self, state: TdmState) -> None:
        store = getattr(self.crawler.spider, "store", None)
        if store is None:
            return
        try:
            store.save_tdm(state.row())
        except Exception as exc:  # the store closes with the spider; a late response may come
            logger.debug("TDM state of %s not saved: %r", state.outlet, exc)


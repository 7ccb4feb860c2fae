"""The item pipeline: extract each fetched page, store the article, cluster new articles."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from scrapy.exceptions import DropItem

import dedup
from crawler.extract import Extracted, NotArticle, extract_article
from crawler.items import FetchedPage

logger = logging.getLogger(__name__)


class ExtractStorePipeline:
    """FetchedPage -> `crawler.extract` -> `articles` row -> `dedup.update` every N articles.

    Extraction is CPU work; it runs in worker processes (NEWSDEDUP_EXTRACT_WORKERS,
    default: one per core) so the crawl keeps downloading meanwhile. Storing stays in
    this process: one module writes the database, one article per transaction.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.dedup_every = settings.getint("NEWSDEDUP_DEDUP_EVERY")
        self.workers = settings.getint("NEWSDEDUP_EXTRACT_WORKERS") or os.cpu_count() or 1
        self.pool: ProcessPoolExecutor | None = None
        self.since_dedup = 0
        self.dedup_error: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractStorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.workers > 1:
            # spawn: forking a process that runs a reactor and holds SQLite handles is unsafe.
            ctx = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=ctx)

    async def process_item(self, item: FetchedPage) -> FetchedPage:
        spider = self.crawler.spider
        rec = spider.recorder
        try:
            extracted = await self._extract(item.html, item.url)
        except NotArticle as exc:
            # Not fetched again on the next run: an index page stays an index page.
            for url in {item.url, item.listed_url}:
                spider.store.remember_url(url, reason=exc.reason)
            rec.skipped(item.outlet, item.url, "article", exc.reason, status=item.status,
                        detail=exc.detail)
            raise DropItem(f"not an article ({exc.reason}): {item.url}") from None
        except Exception as exc:  # a page that breaks the extractor must not stop the crawl
            rec.failed(item.outlet, item.url, "article", "extract_error", status=item.status,
                       detail=repr(exc))
            raise DropItem(f"extraction failed: {item.url}: {exc!r}") from None
        row = extracted.to_row(item.url, item.outlet)
        row["title"] = row.get("title") or item.listed_title
        row["published"] = row.get("published") or item.listed_published
        row["fetched"] = item.fetched
        row["source"] = "crawl"
        spider.store.upsert_article(row)
        if item.listed_url != item.url:
            spider.store.remember_url(item.listed_url, reason="alias", article_url=item.url)
        rec.stored(item.outlet, item.url, item.status)
        self.since_dedup += 1
        if self.since_dedup >= self.dedup_every:
            self._dedup()
        item.html = ""  # the page is stored; don't keep it alive in Scrapy's item chain
        return item

    async def _extract(self, html: str, url: str) -> Extracted:
        if self.pool is None:
            return extract_article(html, url)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, extract_article, html, url)

    def _dedup(self) -> None:
        self.since_dedup = 0
        if self.dedup_error:
            return
        try:
            dedup.update(self.crawler.spider.store.conn, totals=False)  # (shown nowhere)
        except dedup.ParamsMismatch as exc:
            # Articles stay stored; clustering waits for `newsdedup dedup --rebuild`.
            self.dedup_error = str(exc)
            logger.error("%s", exc)

    def close_spider(self) -> None:
        try:
            if self.since_dedup:
                self._dedup()
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)

"""Run the `outlets` spider in this process: the library behind `newsdedup crawl` and `demo`.

`scrapy crawl outlets` from the repository root runs the same spider with the same
settings module; this function adds what a cron job needs around it: the seeds are
checked and the run lock is taken *before* Scrapy starts, so a broken seeds file or a
second concurrent run ends with one clear line instead of a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.runlog import acquire_lock, release_lock
from crawler.seeds import load_outlets
from crawler.spiders.outlets import OutletsSpider, parse_since, select_outlets


@dataclass
class RunResult:
    """What one crawl run did, read back from `crawl_runs` after it ended."""

    run_id: int
    status: str  # ok | failed | interrupted
    totals: dict[str, Any]  # the crawl_runs row
    per_outlet: list[dict[str, Any]]  # the crawl_run_outlets rows


def crawl_settings(db: str | Path, seeds: str | Path, **overrides: Any) -> Settings:
    """The project's settings module with the database, seeds and any overrides applied."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NEWSDEDUP_DB", str(db), priority="cmdline")
    settings.set("NEWSDEDUP_SEEDS", str(seeds), priority="cmdline")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(
    db: str | Path,
    seeds: str | Path,
    *,
    outlets: list[str] | None = None,
    since: str | None = None,
    settings: dict[str, Any] | None = None,
) -> RunResult:
    """Crawl the outlets of `seeds` into `db`; blocks until the crawl ends.

    Raises SeedsError, RunLocked or ValueError (bad --since / outlet id) before any
    request is sent. Only one crawl per process: Twisted's reactor cannot restart.
    """
    from crawler.store import Store

    select_outlets(load_outlets(seeds), outlets)  # the spider checks again; this fails early
    parse_since(since, default_hours=1)  # validates the format now, with a clear message
    lock = acquire_lock(db)
    try:
        process = CrawlerProcess(crawl_settings(db, seeds, **(settings or {})))
        crawler = process.create_crawler(OutletsSpider)
        kwargs = {"since": since}
        if outlets:
            kwargs["outlet"] = ",".join(outlets)
        process.crawl(crawler, **kwargs)
        process.start()
        recorder = getattr(crawler.spider, "recorder", None)
        if recorder is None:
            raise RuntimeError("the crawl did not start; see the log above")
        run_id = recorder.run_id
    finally:
        release_lock(lock)
        logging.getLogger("scrapy").handlers.clear()
    with Store(db) as store:
        row = store.db.table("crawl_runs").get(run_id)
        per_outlet = list(store.db.table("crawl_run_outlets").rows_where("run_id = ?", [run_id],
                                                                   order_by="outlet"))
    return RunResult(run_id=run_id, status=row["status"], totals=row, per_outlet=per_outlet)

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

from crawler.middlewares import warc_dir_of
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


def _make_warc_dir(settings: Settings) -> None:
    """The WARC directory, made now: one that cannot be is a ValueError before the crawl
    starts (a write failing later, say on a full disk, stops the WARC files, not the crawl)."""
    if not settings.getbool("NEWSDEDUP_WARC"):
        return
    directory = warc_dir_of(settings)
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"cannot write WARC files to {directory}/: {exc.strerror or exc} "
            "(choose another --warc-dir, or --no-warc)"
        ) from None


def check_arguments(
    settings: Settings, *, outlets: list[str] | None, since: str | None, since_option: str = "--since "
) -> None:
    """The crawl's arguments, checked before Scrapy starts (inside Scrapy a mistake ends
    in a traceback from a task): the seeds and the outlets asked for, `since`, and the
    database's directory. Raises SeedsError or ValueError, with one line to show, which
    names `since` as `since_option` does (see `parse_since`)."""
    select_outlets(load_outlets(settings.get("NEWSDEDUP_SEEDS")), outlets)
    parse_since(
        since, default_hours=settings.getfloat("NEWSDEDUP_SINCE_HOURS"), option=since_option
    )
    db = settings.get("NEWSDEDUP_DB")
    folder = Path(db).resolve().parent
    if not folder.is_dir():
        raise ValueError(f"{db}: there is no directory {folder}")


def check_files(settings: Settings) -> None:
    """The crawl's files, checked under its lock before Scrapy starts: the WARC directory
    (made now; ValueError) and the database (sqlite3.DatabaseError when the file is
    damaged or no SQLite database)."""
    from crawler.store import Store

    _make_warc_dir(settings)
    with Store(settings.get("NEWSDEDUP_DB")):
        pass


def run_crawl(
    db: str | Path,
    seeds: str | Path,
    *,
    outlets: list[str] | None = None,
    since: str | None = None,
    settings: dict[str, Any] | None = None,
) -> RunResult:
    """Crawl the outlets of `seeds` into `db`; blocks until the crawl ends.

    Raises SeedsError, RunLocked, ValueError (bad --since or outlet id, no such
    directory, a WARC directory that cannot be made) or sqlite3.DatabaseError (not a
    usable database) before any request is sent. Only one crawl per process: Twisted's reactor cannot restart.
    """
    from crawler.store import Store

    lock = None
    try:
        full = crawl_settings(db, seeds, **(settings or {}))
        check_arguments(full, outlets=outlets, since=since)
        lock = acquire_lock(db)
        check_files(full)
        process = CrawlerProcess(full)
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
        if lock is not None:
            release_lock(lock)
        logging.getLogger("scrapy").handlers.clear()
    with Store(db) as store:
        row = store.db.table("crawl_runs").get(run_id)
        per_outlet = list(store.db.table("crawl_run_outlets").rows_where("run_id = ?", [run_id],
                                                                   order_by="outlet"))
    return RunResult(run_id=run_id, status=row["status"], totals=row, per_outlet=per_outlet)

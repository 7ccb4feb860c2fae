"""Bookkeeping of one crawl run: the run lock, the fetch log and per-outlet counts.

Every outcome is written to `fetch_log` as it happens (its own small transaction), so a
run killed with SIGKILL leaves a log that ends where the run ended. The per-outlet
counts go to `crawl_run_outlets` when the run closes; a killed run stays `running`
until the next run marks it `interrupted`.
"""

from __future__ import annotations

import fcntl
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.store import Store, now_iso


class RunLocked(Exception):
    """Another crawl holds the lock on this database."""


# The exit status of a crawl that found its database locked by another run (sysexits.h
# EX_TEMPFAIL): cron wrappers can tell "another run is busy" from a failure.
EXIT_LOCKED = 75


# Locks this process holds, by lock path: the CLI takes the lock before starting Scrapy,
# and the spider asks again; within one process the second ask shares the first lock.
_held: dict[str, list[Any]] = {}


def acquire_lock(db_path: str | Path) -> Path:
    """Take the crawl lock of `db_path` (a `.lock` file beside it) or raise RunLocked.

    flock is released by the kernel when the process dies, so a SIGKILLed run never
    leaves a stale lock behind.
    """
    lock_path = Path(f"{db_path}.lock").resolve()
    key = str(lock_path)
    if key in _held:
        _held[key][1] += 1
        return lock_path
    fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise RunLocked(
            f"another newsdedup run (pid {pid}) is using {db_path}; this run exits without crawling"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    _held[key] = [fd, 1]
    return lock_path


def release_lock(lock_path: Path) -> None:
    key = str(lock_path)
    entry = _held.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        fcntl.flock(entry[0], fcntl.LOCK_UN)
        os.close(entry[0])
        del _held[key]


@dataclass
class OutletCounts:
    """What happened to one outlet's URLs in this run; becomes a `crawl_run_outlets` row."""

    discovered: int = 0  # unique article URLs found in feeds, sitemaps or on the homepage
    fetched: int = 0  # article pages downloaded (any status that reached the spider)
    stored: int = 0  # articles written to `articles`
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> URLs not fetched/stored
    failed: Counter[str] = field(default_factory=Counter)  # reason -> fetches that failed

    def as_row(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "stored": self.stored,
            "skipped": sum(self.skipped.values()),
            "failed": sum(self.failed.values()),
            "skipped_by_reason": dict(self.skipped),
            "failed_by_reason": dict(self.failed),
        }


class RunRecorder:
    """Writes the fetch log and keeps per-outlet counts for one crawl run."""

    def __init__(self, store: Store, *, command: str, since: str | None, outlets: list[str]):
        self.store = store
        self.store.mark_interrupted_runs()
        self.run_id = store.start_run(command=command, since=since, outlets=len(outlets))
        self.counts: dict[str, OutletCounts] = defaultdict(OutletCounts)
        for outlet in outlets:
            self.counts[outlet]  # every outlet gets a row, even one that yields nothing
        self.finished = False

    def _log(self, outlet: str, url: str, kind: str, outcome: str, *, status: int | None = None,
             reason: str | None = None, detail: str | None = None) -> None:
        self.store.log_fetches([{
            "run_id": self.run_id, "time": now_iso(), "outlet": outlet, "url": url,
            "kind": kind, "status": status, "outcome": outcome, "reason": reason,
            "detail": (detail or "")[:500] or None,
        }])

    # Outcomes ------------------------------------------------------------------------

    def listing_ok(self, outlet: str, url: str, kind: str, status: int, found: int) -> None:
        """A feed, sitemap, robots.txt or homepage was fetched and read."""
        self._log(outlet, url, kind, "ok", status=status, detail=f"{found} links")

    def not_modified(self, outlet: str, url: str, kind: str) -> None:
        self._log(outlet, url, kind, "not_modified", status=304)

    def discovered(self, outlet: str, n: int = 1) -> None:
        self.counts[outlet].discovered += n

    def skipped(self, outlet: str, url: str, kind: str, reason: str, *, status: int | None = None,
                detail: str | None = None, log: bool = True) -> None:
        """A URL not fetched or not stored, for `reason`; `log=False` counts it only
        (a feed listing 10,000 known URLs should not write 10,000 log rows per run)."""
        self.counts[outlet].skipped[reason] += 1
        if log:
            self._log(outlet, url, kind, "skipped", status=status, reason=reason, detail=detail)

    def failed(self, outlet: str, url: str, kind: str, reason: str, *, status: int | None = None,
               detail: str | None = None) -> None:
        self.counts[outlet].failed[reason] += 1
        self._log(outlet, url, kind, "failed", status=status, reason=reason, detail=detail)

    def fetched(self, outlet: str) -> None:
        self.counts[outlet].fetched += 1

    def stored(self, outlet: str, url: str, status: int) -> None:
        self.counts[outlet].stored += 1
        self._log(outlet, url, "article", "stored", status=status)

    # End of run ----------------------------------------------------------------------

    def finish(self, status: str, *, requests: int = 0, error: str | None = None) -> dict[str, Any]:
        self.finished = True
        return self.store.finish_run(
            self.run_id,
            status=status,
            per_outlet={o: c.as_row() for o, c in self.counts.items()},
            requests=requests,
            error=error,
        )

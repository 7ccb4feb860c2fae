"""Live progress of a crawl on a terminal: per-outlet counts, redrawn every two seconds."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.runlog import OutletCounts


def render_counts(counts: dict[str, OutletCounts], *, limit: int) -> list[str]:
    """Lines of a small table: the busiest outlets first, then a totals line."""
    rows = sorted(counts.items(), key=lambda kv: (-(kv[1].discovered + kv[1].fetched), kv[0]))
    width = max([len(o) for o, _ in rows[:limit]] + [6])
    head = f"{'outlet':<{width}}  {'found':>6} {'fetched':>7} {'stored':>6} {'skipped':>7} {'failed':>6}"
    lines = [head]
    total = OutletCounts()
    for _, c in rows:
        total.discovered += c.discovered
        total.fetched += c.fetched
        total.stored += c.stored
        total.skipped.update(c.skipped)
        total.failed.update(c.failed)
    for outlet, c in rows[:limit]:
        lines.append(_row(outlet, c, width))
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more outlets")
    lines.append(_row("total", total, width))
    return lines


def _row(name: str, c: OutletCounts, width: int) -> str:
    return (f"{name:<{width}}  {c.discovered:>6} {c.fetched:>7} {c.stored:>6} "
            f"{sum(c.skipped.values()):>7} {sum(c.failed.values()):>6}")


class Progress:
    """Scrapy extension, on when NEWSDEDUP_PROGRESS is true (the CLI sets it on a TTY)."""

    def __init__(self, crawler: Any, out: TextIO = sys.stderr, interval: float = 2.0) -> None:
        self.crawler = crawler
        self.out = out
        self.interval = interval
        self.drawn = 0
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        if not crawler.settings.getbool("NEWSDEDUP_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Any) -> None:
        self.loop = task.LoopingCall(self.draw)
        self.loop.start(self.interval, now=False)

    def draw(self) -> None:
        recorder = getattr(self.crawler.spider, "recorder", None)
        if recorder is None:
            return
        lines = render_counts(recorder.counts, limit=12)
        # Move up over the previous drawing and clear it, then print the new one.
        prefix = f"\x1b[{self.drawn}F\x1b[J" if self.drawn else ""
        self.out.write(prefix + "\n".join(lines) + "\n")
        self.out.flush()
        self.drawn = len(lines)

    def closed(self, spider: Any) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.drawn:
            self.out.write(f"\x1b[{self.drawn}F\x1b[J")
            self.out.flush()

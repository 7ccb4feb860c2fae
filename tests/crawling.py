"""Helpers for tests that run real crawls: each crawl runs in a subprocess (Twisted's
reactor can't restart), against servers the test runs on 127.0.0.1."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Loopback servers need no politeness delay; everything else stays as in a real crawl.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0",
        "-s", "DOWNLOAD_DELAY_JITTER=0"]


def newsdedup(*args: str, timeout: float = 240, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run the `newsdedup` CLI in a subprocess and return its result (text output)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "newsdedup", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def scrapy_crawl(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run `scrapy crawl outlets` from the repository root, as a Scrapy user would."""
    scrapy = Path(sys.executable).with_name("scrapy")
    return subprocess.run([str(scrapy), "crawl", "outlets", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def outcomes(db: Path, base: str) -> dict[str, str]:
    """fetch_log outcome of each article path of the server at `base` (last one wins)."""
    rows = query(db, "SELECT url, outcome FROM fetch_log WHERE kind = 'article' ORDER BY id")
    return {url[len(base):]: outcome for url, outcome in rows if url.startswith(base)}


@contextmanager
def lock_held_elsewhere(db: Path) -> Iterator[int]:
    """Another process holds the crawl lock of `db` while the block runs; yields its pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from crawler.runlog import acquire_lock; "
         f"acquire_lock({str(db)!r}); print('held', flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()

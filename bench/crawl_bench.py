"""Crawl benchmark over loopback: the demo newsroom grown to >= 500 article pages.

Runs, side by side in one invocation:
  1. a first crawl with the loopback settings of `newsdedup demo` (no delay):
     pages/s and the peak memory of the crawl's process tree;
  2. a second crawl over the unchanged newsroom: requests made, 304s, articles
     refetched, wall time relative to the first;
  3. (unless --no-polite) a first crawl with the politeness settings of a real crawl
     (crawler/settings.py as shipped), next to the lower bound the delay alone sets.

The newsroom is served by `python -m crawler.demo.server` in its own process, as an
outlet's server would be. Usage:

    .venv/bin/python bench/crawl_bench.py [--extra 500] [--no-polite]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_START_DELAY=0",
    "-s",
    "DOWNLOAD_DELAY_JITTER=0",
]


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of `pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total


def run_measured(cmd: list[str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run `cmd`, sampling its process tree's memory every 50 ms: (seconds, peak bytes, result)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if proc.returncode != 0:
        sys.exit(f"crawl failed ({proc.returncode}):\n{err[-3000:]}")
    return elapsed, peak, result


def crawl_cmd(db: Path, seeds: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "newsdedup",
        "crawl",
        "--db",
        str(db),
        "--seeds",
        str(seeds),
        *extra,
    ]


def last_run(db: Path) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    run = dict(conn.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())
    run["not_modified"] = conn.execute(
        "SELECT count(*) FROM fetch_log WHERE run_id = ? AND outcome = 'not_modified'", [run["id"]]
    ).fetchone()[0]
    run["per_outlet_fetched"] = dict(
        conn.execute("SELECT outlet, fetched FROM crawl_run_outlets WHERE run_id = ?", [run["id"]])
    )
    conn.close()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extra", type=int, default=500, help="generated articles to add")
    parser.add_argument("--no-polite", action="store_true", help="skip the polite crawl")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        seeds = tmpdir / "seeds.toml"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler.demo.server",
                "--extra",
                str(args.extra),
                "--seeds-out",
                str(seeds),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            ready = server.stdout.readline().strip()  # type: ignore[union-attr]
            print(f"# {ready}")
            report: dict[str, object] = {"cpus": os.cpu_count()}

            db = tmpdir / "fast.db"
            t1, peak1, _ = run_measured(crawl_cmd(db, seeds, LOOPBACK))
            r1 = last_run(db)
            report["first"] = {
                "seconds": round(t1, 2),
                "requests": r1["requests"],
                "fetched": r1["fetched"],
                "stored": r1["stored"],
                "pages_per_s": round(r1["fetched"] / t1, 1),
                "peak_rss_mib": round(peak1 / 2**20, 1),
            }
            t2, peak2, _ = run_measured(crawl_cmd(db, seeds, LOOPBACK))
            r2 = last_run(db)
            report["second"] = {
                "seconds": round(t2, 2),
                "requests": r2["requests"],
                "not_modified": r2["not_modified"],
                "articles_refetched": r2["fetched"],
                "stored": r2["stored"],
                "time_vs_first": round(t2 / t1, 3),
                "peak_rss_mib": round(peak2 / 2**20, 1),
            }
            if not args.no_polite:
                # Shipped politeness: DOWNLOAD_DELAY, AutoThrottle and per-outlet concurrency
                # as in crawler/settings.py; only the database and seeds differ.
                pdb = tmpdir / "polite.db"
                t3, peak3, _ = run_measured(crawl_cmd(pdb, seeds, []))
                r3 = last_run(pdb)
                from crawler.settings import DOWNLOAD_DELAY

                # Each outlet is one download slot: its requests are at least DOWNLOAD_DELAY
                # apart, so the busiest outlet bounds the run from below.
                busiest = max(r3["per_outlet_fetched"].values())
                report["polite"] = {
                    "seconds": round(t3, 2),
                    "requests": r3["requests"],
                    "fetched": r3["fetched"],
                    "pages_per_s": round(r3["fetched"] / t3, 2),
                    "delay_s": DOWNLOAD_DELAY,
                    "busiest_outlet_pages": busiest,
                    "delay_lower_bound_s": round(busiest * DOWNLOAD_DELAY, 1),
                    "slowdown_vs_loopback": round(t3 / t1, 1),
                    "peak_rss_mib": round(peak3 / 2**20, 1),
                }
            print(json.dumps(report, indent=2))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()

"""Benchmark of `newsdedup export` and of WARC ingest.

1. Export throughput: a corpus from bench/gen_corpus.py is stored and clustered with
   `dedup.update` (kept in --workdir for the next run), then exported once per format
   (--dedup none: every article) and once per dedup mode (JSONL). Each export runs in its
   own process so its peak memory (VmHWM) is its own; a smaller corpus shows whether
   memory grows with the corpus.
2. WARC ingest next to HTML-file ingest: the same pages (gen_corpus texts in an article
   template, with rel=canonical) as one .html file each and as one gzipped WARC written
   by crawler.warc.RotatingWarcWriter, ingested with the same worker count, --no-dedup.
3. (--crawl N) the cost of writing WARC during a crawl: the demo newsroom grown by N
   articles, crawled over loopback into fresh databases with --no-warc and with WARC on,
   alternately, twice each.

Usage:
    python bench/export_bench.py --sizes 10000 100000 --pages 2000 --crawl 500
"""

from __future__ import annotations

import argparse
import html
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_corpus import generate  # noqa: E402

FORMATS = ("jsonl", "jsonl.gz", "jsonl.zst", "parquet", "csv")
MODES = ("none", "cluster", "passage")


def corpus_db(n: int, workdir: Path) -> Path:
    """A stored, clustered corpus of n articles; built once and kept."""
    import sqlite3

    import dedup
    from crawler.store import Store

    db = workdir / f"export_bench_{n}.db"
    if db.exists():
        return db
    tmp = workdir / f"export_bench_{n}.building.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    with Store(tmp) as store:
        store.upsert_articles({**row, "language": "de"} for row in generate(n))
    conn = sqlite3.connect(str(tmp), isolation_level=None)
    dedup.update(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.replace(tmp, db)
    print(f"# built {db.name} in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    return db


def one_export(db: Path, out: Path, mode: str) -> dict:
    import pyarrow.parquet  # noqa: F401 - imported before the baseline, as export would

    from crawler.export import export
    from crawler.store import Store

    base = _hwm_mb()
    started = time.perf_counter()
    with Store(db, create=False) as store:
        s = export(store, out, dedup=mode, overwrite=True)
    elapsed = time.perf_counter() - started
    return {"written": s.written, "seconds": round(elapsed, 2),
            "per_s": round(s.written / elapsed), "mb": round(s.bytes / 1e6, 1),
            "base_rss_mb": round(base),  # after imports, before the export
            "peak_rss_mb": round(_hwm_mb())}


def _hwm_mb() -> float:
    """Peak RSS of this process image. Not ru_maxrss: Linux carries that over exec from the
    parent that spawned us, so every child would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{title} | {outlet}</title>
<link rel="canonical" href="{url}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
</head><body><nav><a href="/">Start</a> <a href="/politik/">Politik</a></nav>
<article><h1>{title}</h1>{paras}</article>
<footer>Impressum · Datenschutz</footer></body></html>"""


def write_pages(n: int, workdir: Path) -> tuple[Path, Path]:
    """n article pages as HTML files and as one gzipped WARC (same bytes, same URLs)."""
    from crawler.warc import RotatingWarcWriter

    pages_dir, warc_dir = workdir / f"pages_{n}", workdir / f"warc_{n}"
    if pages_dir.exists() and warc_dir.exists():
        return pages_dir, warc_dir
    pages_dir.mkdir(exist_ok=True)
    warc_dir.mkdir(exist_ok=True)
    writer = RotatingWarcWriter(warc_dir)
    for i, row in enumerate(generate(n, seed=11)):
        paras = "".join(f"<p>{html.escape(p)}</p>\n" for p in row["text"].split("\n\n"))
        body = PAGE.format(title=html.escape(row["title"]), outlet=row["outlet"], url=row["url"],
                           published=row["published"], paras=paras).encode("utf-8")
        (pages_dir / f"{i:06d}.html").write_bytes(body)
        writer.write(url=row["url"], method="GET", request_headers=[("User-Agent", "bench")],
                     request_body=b"", status=200,
                     response_headers=[("Content-Type", "text/html; charset=utf-8")], body=body)
    writer.close()
    return pages_dir, warc_dir


def ingest_rate(inputs: Path, workdir: Path, workers: int) -> dict:
    db = workdir / f"ingest_{inputs.name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "newsdedup", "ingest", "--db", str(db), "--no-dedup",
                          "--no-progress", "--workers", str(workers), str(inputs)],
                         capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    stored = int(next(line.split()[1] for line in out.stdout.splitlines()
                      if line.strip().startswith("stored")))
    return {"stored": stored, "seconds": round(elapsed, 2), "pages_per_s": round(stored / elapsed, 1)}


def crawl_rate(n: int, workdir: Path, rounds: int = 2) -> list[dict]:
    from datetime import UTC, datetime

    from crawler.demo.server import serve_newsroom
    from crawler.demo.site import build_newsroom

    loopback = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0",
                "-s", "DOWNLOAD_DELAY_JITTER=0"]
    out = []
    with serve_newsroom(build_newsroom(datetime.now(UTC), extra_articles=n)) as running:
        seeds = running.write_seeds(workdir / "crawl-seeds.toml")
        for i in range(rounds * 2):
            warc = i % 2 == 1
            db = workdir / f"crawl_{i}.db"
            warc_dir = workdir / f"crawl_{i}-warc"
            for p in [Path(f"{db}{s}") for s in ("", "-wal", "-shm")] + list(warc_dir.glob("*")):
                p.unlink(missing_ok=True)
            started = time.perf_counter()
            res = subprocess.run([sys.executable, "-m", "newsdedup", "crawl", "--db", str(db),
                                  "--seeds", str(seeds), *loopback,
                                  *(["--warc-dir", str(warc_dir)] if warc else ["--no-warc"])],
                                 capture_output=True, text=True, cwd=ROOT)
            elapsed = time.perf_counter() - started
            if res.returncode != 0:
                raise SystemExit(res.stderr[-2000:])
            import sqlite3

            conn = sqlite3.connect(db)
            stored, requests = conn.execute("SELECT stored, requests FROM crawl_runs").fetchone()
            conn.close()
            size = sum(p.stat().st_size for p in warc_dir.glob("*.warc.gz")) if warc else 0
            out.append({"crawl": "warc" if warc else "no-warc", "stored": stored, "requests": requests,
                        "seconds": round(elapsed, 1), "pages_per_s": round(stored / elapsed, 1),
                        "warc_mb": round(size / 1e6, 1)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    ap.add_argument("--pages", type=int, default=2000, help="pages for the ingest comparison (0: skip)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--crawl", type=int, default=0, help="extra demo articles for the WARC crawl cost")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "newsdedup-export-bench"))
    ap.add_argument("--one", nargs=3, metavar=("DB", "OUT", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        db, out, mode = args.one
        print(json.dumps(one_export(Path(db), Path(out), mode)))
        return
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    for n in args.sizes:
        db = corpus_db(n, workdir)
        for fmt in FORMATS:
            r = _child("--one", str(db), str(workdir / f"out_{n}.{fmt}"), "none")
            print(json.dumps({"articles": n, "format": fmt, "dedup": "none", **r}), flush=True)
        for mode in MODES[1:]:
            r = _child("--one", str(db), str(workdir / f"out_{n}_{mode}.jsonl"), mode)
            print(json.dumps({"articles": n, "format": "jsonl", "dedup": mode, **r}), flush=True)
        for f in workdir.glob(f"out_{n}*"):
            f.unlink()
    if args.pages:
        pages_dir, warc_dir = write_pages(args.pages, workdir)
        for label, path in (("html files", pages_dir), ("warc.gz", warc_dir),
                            ("html files (again)", pages_dir), ("warc.gz (again)", warc_dir)):
            r = ingest_rate(path, workdir, args.workers)
            print(json.dumps({"ingest": label, "pages": args.pages, "workers": args.workers, **r}),
                  flush=True)
    if args.crawl:
        for r in crawl_rate(args.crawl, workdir):
            print(json.dumps({"extra_articles": args.crawl, **r}), flush=True)
    print(f"# load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()

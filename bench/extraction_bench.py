"""Extraction quality and speed over every page ../shared/tools/score_extraction.py lists.

One run does, over the same pages:
  1. plain `trafilatura.extract(include_comments=False)` in one process (the baseline);
  2. `crawler.ingest.ingest` (what `newsdedup ingest` runs: decode, extract, clean,
     attribute, store in SQLite) on 1 worker, for the per-page overhead beyond trafilatura;
     (1) and (2) alternate in chunks of 40 pages, so that load from other processes on a
     shared machine falls on both alike;
  3. the same on N workers (default 2), for the speedup over (1);
then reads url/title/text/published back from the `articles` table of run 3 and scores
both (1) and (3) with score_extraction.score.

Beside the wall-clock figures it reports CPU time per page (of (1), (2), and of the
parent and the workers of (3)): on a shared machine the wall clock also measures other
processes' load, CPU time much less so.

    .venv/bin/python bench/extraction_bench.py                # all ~1,270 pages
    .venv/bin/python bench/extraction_bench.py --limit 200    # quick look while tuning
    .venv/bin/python bench/extraction_bench.py --skip-speed --worst 10   # where it fails
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.ingest import Record, ingest  # noqa: E402
from crawler.store import Store  # noqa: E402

DEFAULT_SHARED = Path(os.environ.get("NEWSDEDUP_SHARED", ROOT.parent / "shared"))


def load_scorer(shared: Path) -> Any:
    """The shared scoring module, imported from its file (it is not a package)."""
    path = shared / "tools" / "score_extraction.py"
    if not path.exists():
        raise SystemExit(f"{path} not found; pass --shared PATH to the ../shared checkout")
    spec = importlib.util.spec_from_file_location("score_extraction", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def list_pages(scorer: Any, limit: int | None = None) -> list[dict[str, str]]:
    pages = list(scorer.pages())
    if limit:
        # An even slice of every dataset, so a quick run still scores all three.
        by_set: dict[str, list[dict[str, str]]] = {}
        for p in pages:
            by_set.setdefault(p["dataset"], []).append(p)
        share = limit / len(pages)
        pages = [p for ps in by_set.values() for p in ps[: max(1, round(len(ps) * share))]]
    return pages


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def run_plain_trafilatura(pages: list[dict[str, str]], root: Path) -> tuple[dict[str, dict], float]:
    import trafilatura

    pred = {}
    start = time.perf_counter()
    for p in pages:
        text = trafilatura.extract(_read(root / p["path"]), include_comments=False) or ""
        pred[p["url"]] = {"url": p["url"], "text": text}
    return pred, time.perf_counter() - start


def _records(pages: list[dict[str, str]], root: Path) -> Any:
    return (Record("html", p["url"], path=str(root / p["path"]), source=p["path"]) for p in pages)


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_ingest(
    pages: list[dict[str, str]], root: Path, db: Path, workers: int
) -> tuple[Any, float, dict[str, float]]:
    """Ingest `pages` on `workers` processes; returns (stats, seconds, CPU seconds).

    CPU seconds of the parent (reading records, storing rows) and of the worker
    processes (extraction; counted once the pool has ended and they are reaped):
    what the run would take on idle cores, whatever other processes do meanwhile.
    """
    with Store(db) as store:
        parent, children = _cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        stats = ingest(store, _records(pages, root), workers=workers)
        secs = time.perf_counter() - start
        cpu = {
            "parent": _cpu_seconds(resource.RUSAGE_SELF) - parent,
            "workers": _cpu_seconds(resource.RUSAGE_CHILDREN) - children,
        }
        return stats, secs, cpu


def run_side_by_side(
    pages: list[dict[str, str]], root: Path, db: Path, chunk: int = 40
) -> tuple[dict[str, dict], dict[str, float], dict[str, float]]:
    """(1) plain trafilatura and (2) 1-worker ingest, alternating chunk by chunk.

    Returns the baseline's predictions and the seconds and CPU seconds of each.
    """
    pred: dict[str, dict] = {}
    secs = {"plain": 0.0, "ingest": 0.0}
    cpu = {"plain": 0.0, "ingest": 0.0}
    with Store(db) as store:
        for i in range(0, len(pages), chunk):
            part = pages[i : i + chunk]
            # Alternate which goes first, so neither always runs on a warmer cache.
            for which in ("plain", "ingest") if (i // chunk) % 2 == 0 else ("ingest", "plain"):
                start, start_cpu = time.perf_counter(), time.process_time()
                if which == "plain":
                    got, _ = run_plain_trafilatura(part, root)
                    pred.update(got)
                else:
                    ingest(store, _records(part, root), workers=1)
                secs[which] += time.perf_counter() - start
                cpu[which] += time.process_time() - start_cpu
    return pred, secs, cpu


def worst_pages(scorer: Any, pred: dict[str, dict], n: int) -> dict[str, list[str]]:
    """The n pages of aeb and fundus_de with the lowest body F1, and fundus_de's misses.

    Only pages that were run count (with --limit, the others are missing, not wrong).
    """
    out: dict[str, list[str]] = {}
    for name, truths in (("aeb", scorer.aeb_truth()), ("fundus_de", scorer.fundus_truth())):
        rows = []
        for url, truth in truths.items():
            if url not in pred:
                continue
            p, r = scorer.page_pr(truth["text"], pred.get(url, {}).get("text"))
            rows.append((scorer.f1(p, r), f"P={p:.2f} R={r:.2f} {url}"))
        out[f"{name}_body"] = [line for _, line in sorted(rows)[:n]]
    truths = {u: t for u, t in scorer.fundus_truth().items() if u in pred}
    out["fundus_de_title"] = [
        f"{url}: got {pred.get(url, {}).get('title')!r}, want {t['title']!r}"
        for url, t in truths.items()
        if scorer.norm(pred.get(url, {}).get("title")) != scorer.norm(t["title"])
    ][:n]
    out["fundus_de_day"] = [
        f"{url}: got {pred.get(url, {}).get('published')!r}, want {t['published']!r}"
        for url, t in truths.items()
        if (pred.get(url, {}).get("published") or "")[:10] != (t["published"] or "")[:10]
    ][:n]
    return out


def read_back(db: Path) -> dict[str, dict]:
    with Store(db, create=False) as store:
        return {r["url"]: r for r in store.iter_articles("url, title, text, published")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument(
        "--limit", type=int, default=None, help="about this many pages, spread over the datasets"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--skip-speed", action="store_true", help="quality only: no baseline, no 1-worker run"
    )
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    ap.add_argument("--worst", type=int, default=0, help="also list the N worst pages per metric")
    args = ap.parse_args(argv)

    scorer = load_scorer(args.shared)
    root = args.shared / "data" / "extraction"
    pages = list_pages(scorer, args.limit)
    result: dict[str, Any] = {
        "pages": len(pages),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        # Other processes' load: speed figures from a busy machine are indicative only.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if args.limit:
        result["note"] = (
            "--limit: pages outside the slice count as empty, so scores are not comparable"
        )
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_speed:
            base_pred, side_secs, side_cpu = run_side_by_side(pages, root, Path(tmp) / "one.db")
            base_secs, one_secs = side_secs["plain"], side_secs["ingest"]
            result["trafilatura_plain"] = {
                "seconds": round(base_secs, 2),
                "ms_per_page": round(1000 * base_secs / len(pages), 2),
                "cpu_ms_per_page": round(1000 * side_cpu["plain"] / len(pages), 2),
                "scores": scorer.score(base_pred),
            }
            result["ingest_1_worker"] = {
                "seconds": round(one_secs, 2),
                "ms_per_page": round(1000 * one_secs / len(pages), 2),
                "cpu_ms_per_page": round(1000 * side_cpu["ingest"] / len(pages), 2),
                "overhead_vs_trafilatura": round(one_secs / base_secs - 1, 3),
                "overhead_vs_trafilatura_cpu": round(side_cpu["ingest"] / side_cpu["plain"] - 1, 3),
            }
        stats, secs, cpu = run_ingest(pages, root, Path(tmp) / "n.db", args.workers)
        pred = read_back(Path(tmp) / "n.db")
        result[f"ingest_{args.workers}_workers"] = {
            "seconds": round(secs, 2),
            "ms_per_page": round(1000 * secs / len(pages), 2),
            # CPU per page: the parent's share shows whether it could hold back the workers.
            "cpu_ms_per_page_parent": round(1000 * cpu["parent"] / len(pages), 2),
            "cpu_ms_per_page_workers": round(1000 * cpu["workers"] / len(pages), 2),
            "stored": stats.stored,
            "skipped": dict(stats.skipped_by_reason),
            "failed": dict(stats.failed_by_reason),
            "scores": scorer.score(pred),
        }
        if not args.skip_speed:
            result[f"ingest_{args.workers}_workers"]["speedup_vs_trafilatura"] = round(
                base_secs / secs, 2
            )
            result[f"ingest_{args.workers}_workers"]["speedup_vs_1_worker"] = round(
                one_secs / secs, 2
            )
            # What the CPU work allows where each process has an idle core of its own:
            # the baseline's CPU per page over the run's CPU shared by its workers.
            result[f"ingest_{args.workers}_workers"]["speedup_vs_trafilatura_cpu_bound"] = round(
                side_cpu["plain"] / ((cpu["parent"] + cpu["workers"]) / args.workers), 2
            )
        if args.worst:
            result["worst"] = worst_pages(scorer, pred, args.worst)
        result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()

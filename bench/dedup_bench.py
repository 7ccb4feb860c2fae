"""Benchmark of the dedup path on synthetic corpora (bench/gen_corpus.py).

Per size: docs/s per core for the whole path (normalize, shingle, MinHash, LSH in
SQLite, verify, cluster, store), peak memory, database size, the time to add 1,000
more articles to the full index, and then to withdraw 1,000 deleted articles and to
re-index 1,000 changed ones (each `dedup.update` after the articles table changed, in
the process that built the index), and to add 1,000 more with `newsdedup dedup` in a
new process, as a user's next crawl or ingest does (add_1000_new_process_s: the
command's wall time, start-up and reading the index back included), and to withdraw
1,000 more deleted ones the same way (delete_1000_new_process_s).
With --baseline, a plain datasketch run over the same articles (default MinHash,
in-memory MinHashLSH at 0.5, union-find).

Usage:
    python bench/dedup_bench.py --sizes 10000 100000 --baseline 100000
    python bench/dedup_bench.py --sizes 100000 --repeat 5    # median and range
    python bench/dedup_bench.py --sizes 100000 --baseline 100000 --repeat 3
        # rounds of ours then the baseline: the speedup per round and its median
Each size runs in its own process; the corpus is generated and stored beforehand (and
kept in --workdir as articles_N.db + add_N.jsonl for the next run), so the figures are the
dedup path's alone, peak memory included. The engine's imports are timed apart
(import_cpu_s, about a second), as the baseline's are not timed; so is the compilation of
its kernels, which the first run after an install or a change pays once (an untimed
run of 2,000 articles first, its CPU time on a line of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_corpus import generate  # noqa: E402

ADD = 1000
WARM_UP = 2000  # articles of the untimed first run


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _usage() -> tuple[float, float, int]:
    """(user CPU s, system CPU s, minor page faults) so far. System time here is mostly
    page faults: on a virtual machine whose host takes back freed pages, a fresh page
    costs far more than on bare metal, so the split says how much of a figure that is."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def prepare(n: int, workdir: Path) -> tuple[Path, Path]:
    """articles_N.db with the first n generated articles, and add_N.jsonl with the next
    2 * ADD (added in the run's process, then in a new one); kept in workdir and reused
    (generating and storing 1M articles takes a while)."""
    from crawler.store import PAGE_SIZE, Store

    workdir.mkdir(parents=True, exist_ok=True)
    db, extra = workdir / f"articles_{n}.db", workdir / f"add_{n}.jsonl"
    if db.exists() and extra.exists() and sum(1 for _ in extra.open()) < 2 * ADD:
        # (kept from a version that added ADD articles once: the next 2 * ADD instead)
        with extra.open("w") as f:
            for row in islice(generate(n + 2 * ADD), n, None):
                f.write(json.dumps(row) + "\n")
    if db.exists() and extra.exists():
        # A corpus kept from a version that made databases with another page size is
        # rewritten in the current one (the same articles; `Store` makes new files so).
        conn = sqlite3.connect(str(db), isolation_level=None)
        if conn.execute("PRAGMA page_size").fetchone()[0] != PAGE_SIZE:
            print(f"articles_{n}.db: rewriting with {PAGE_SIZE}-byte pages", file=sys.stderr)
            conn.execute("PRAGMA journal_mode=DELETE").fetchall()
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            conn.execute("VACUUM")
        conn.close()
        return db, extra
    part = workdir / f"articles_{n}.db.partial"
    part.unlink(missing_ok=True)
    rows = generate(n + 2 * ADD)
    with Store(part) as store:
        store.upsert_articles(islice(rows, n))
    conn = sqlite3.connect(str(part))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    with extra.open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    part.rename(db)
    return db, extra


def _reset_peak() -> bool:
    """Start a new peak-RSS measurement (Linux: clear_refs 5 resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_size(n: int, workdir: Path, params: dict[str, int]) -> dict:
    # The engine's imports (numpy, datasketch with scipy, numba and its compiled kernels)
    # are a once-per-process cost, timed apart: the baseline's imports are not timed either.
    import_cpu = _cpu()
    import dedup
    import dedup.engine  # noqa: F401
    from crawler.store import Store

    import_cpu = _cpu() - import_cpu

    source, extra = prepare(n, workdir)
    db = workdir / f"bench_{n}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, db)
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    articles_bytes = db.stat().st_size
    _reset_peak()
    wall, cpu, usage = time.perf_counter(), _cpu(), _usage()
    summary = dedup.update(conn, **params)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    user, system, faults = (b - a for a, b in zip(usage, _usage(), strict=True))
    peak = _peak_mib()
    more = [json.loads(line) for line in extra.open()]
    with Store(db) as store:
        store.upsert_articles(more[:ADD])
    add_wall = time.perf_counter()
    added = dedup.update(conn, **params)
    add_wall = time.perf_counter() - add_wall
    # 1,000 articles deleted and 1,000 others given a new paragraph, spread over the
    # index: each update withdraws them (and indexes the changed ones anew).
    ids = [r[0] for r in conn.execute("SELECT id FROM articles ORDER BY id")]
    step = len(ids) // (2 * ADD)
    gone, edited = ids[::step][:ADD], ids[step // 2 :: step][:ADD]
    conn.executemany("DELETE FROM articles WHERE id = ?", [(i,) for i in gone])
    drop_wall = time.perf_counter()
    dropped = dedup.update(conn, **params)
    drop_wall = time.perf_counter() - drop_wall
    conn.executemany(
        "UPDATE articles SET text = text || ? WHERE id = ?",
        [("\n\nNachtrag: Die Polizei bittet um Hinweise und ermittelt weiter.", i) for i in edited],
    )
    edit_wall = time.perf_counter()
    reindexed = dedup.update(conn, **params)
    edit_wall = time.perf_counter() - edit_wall
    # 1,000 more, indexed by `newsdedup dedup` in a process of its own, as after an
    # ingest or in a scheduled crawl: the index is read back from the database, not
    # found in memory. Wall time of the command, start-up and imports included.
    with Store(db) as store:
        store.upsert_articles(more[ADD:])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    cold_wall, cold_cpu = _dedup_in_new_process(db)
    # And 1,000 others deleted, spread over the index, withdrawn by a new process.
    conn = sqlite3.connect(str(db), isolation_level=None)
    ids = [r[0] for r in conn.execute("SELECT id FROM articles ORDER BY id")]
    step = len(ids) // ADD
    conn.executemany("DELETE FROM articles WHERE id = ?", [(i,) for i in ids[step // 3 :: step][:ADD]])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    cold_drop_wall, cold_drop_cpu = _dedup_in_new_process(db)
    return {
        "articles": n,
        "docs_per_s_per_core": round(n / cpu, 1),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "user_s": round(user, 1),
        "sys_s": round(system, 1),
        "minor_faults": faults,
        "import_cpu_s": round(import_cpu, 2),
        "peak_rss_mib": round(peak, 1),
        "db_mib": round(db.stat().st_size / 2**20, 1),
        "db_mib_without_dedup": round(articles_bytes / 2**20, 1),
        "add_1000_s": round(add_wall, 2),
        "add_indexed": added["indexed"],
        "add_1000_new_process_s": round(cold_wall, 2),
        "add_1000_new_process_cpu_s": round(cold_cpu, 2),
        "delete_1000_new_process_s": round(cold_drop_wall, 2),
        "delete_1000_new_process_cpu_s": round(cold_drop_cpu, 2),
        "delete_1000_s": round(drop_wall, 2),
        "delete_withdrawn": dropped["withdrawn"],
        "change_1000_s": round(edit_wall, 2),
        "change_withdrawn": reindexed["withdrawn"],
        "pairs": summary["pairs"],
        "clusters": summary["clusters"],
        "multi_clusters": summary["multi_clusters"],
        "containers": summary["containers"],
    }


def _dedup_in_new_process(db: Path) -> tuple[float, float]:
    """`newsdedup dedup` on `db` in a process of its own: (wall s, CPU s)."""
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    subprocess.run(
        [sys.executable, "-c", "from newsdedup.cli import cli; cli()", "dedup", "--db", str(db),
         "--no-progress"],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip  (the checkout's newsdedup, installed or not)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    check = sqlite3.connect(str(db))
    left = check.execute("SELECT COUNT(*) FROM dedup_queue").fetchone()[0]
    gone = check.execute("SELECT COUNT(*) FROM dedup_gone").fetchone()[0]
    check.close()
    if left or gone:
        raise SystemExit(
            f"newsdedup dedup in a new process left {left} articles unindexed, {gone} deleted"
        )
    return wall, after.ru_utime - child.ru_utime + after.ru_stime - child.ru_stime


def run_baseline(n: int) -> dict:
    """Plain datasketch: default MinHash (SHA1, 128 perm) per article, MinHashLSH, union-find."""
    from datasketch import MinHash, MinHashLSH

    word = re.compile(r"\w+")
    docs = list(islice(generate(n + ADD), n))
    wall, cpu = time.perf_counter(), _cpu()
    usage = _usage()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, d in enumerate(docs):
        w = word.findall(d["text"].lower())
        m = MinHash(num_perm=128)
        m.update_batch({" ".join(w[j : j + 5]).encode() for j in range(max(1, len(w) - 4))})
        for j in lsh.query(m):
            parent[find(i)] = find(j)
        lsh.insert(i, m)
    clusters = len({find(i) for i in range(n)})
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    user, system, faults = (b - a for a, b in zip(usage, _usage(), strict=True))
    return {
        "baseline_articles": n,
        "baseline_docs_per_s_per_core": round(n / cpu, 1),
        "baseline_user_s": round(user, 1),
        "baseline_sys_s": round(system, 1),
        "baseline_minor_faults": faults,
        "baseline_wall_s": round(wall, 1),
        "baseline_clusters": clusters,
        "baseline_peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000])
    ap.add_argument("--baseline", type=int, nargs="*", default=[])
    ap.add_argument("--workdir", default=tempfile.gettempdir(), help="where corpora are kept")
    ap.add_argument(
        "--max-bucket", type=int, help="dedup max_bucket (default: dedup.Params'); the cost per "
        "article at scale grows with it",
    )
    ap.add_argument(
        "--commit-every", type=int, help="articles per dedup transaction (default: dedup.update's); "
        "peak memory grows with it",
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="rounds, each running every size and then every "
        "baseline (each in its own process); then a line with the median and range of docs/s "
        "and one with the speedup over the baseline per round: on a shared machine one run "
        "can be 10%% off",
    )
    ap.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--one-baseline", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.prepare:
        prepare(args.prepare, Path(args.workdir))
        return
    if args.one:
        params: dict[str, int] = {"max_bucket": args.max_bucket} if args.max_bucket else {}
        if args.commit_every:
            params["commit_every"] = args.commit_every
        print(json.dumps({**run_size(args.one, Path(args.workdir), params), **params}))
        return
    if args.one_baseline:
        print(json.dumps(run_baseline(args.one_baseline)))
        return
    extra = ["--max-bucket", str(args.max_bucket)] if args.max_bucket else []
    if args.commit_every:
        extra += ["--commit-every", str(args.commit_every)]
    # Rounds: each runs every size, then every baseline, so that a change in the machine's
    # load falls on both sides of a ratio alike (one ratio per round).
    jobs = [
        job
        for _ in range(args.repeat)
        for job in [["--one", str(n), *extra] for n in args.sizes]
        + [["--one-baseline", str(n)] for n in args.baseline]
    ]
    for n in args.sizes:  # corpora first, each in a process of its own
        subprocess.run(
            [sys.executable, __file__, "--prepare", str(n), "--workdir", args.workdir], check=True
        )
    if args.sizes:
        # A first run compiles the engine's kernels (numba, cached on disk beside them for
        # every later process): a small one here, so that no timed run pays for it.
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(WARM_UP), *extra, "--workdir", tmp],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
        print(json.dumps({"warm_up_articles": WARM_UP,
                          "warm_up_cpu_s": json.loads(out.stdout)["cpu_s"]}), flush=True)
    rates: dict[int, list[float]] = {}
    base_rates: dict[int, list[float]] = {}
    for job in jobs:
        out = subprocess.run(
            [sys.executable, __file__, *job, "--workdir", args.workdir],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ,
        )
        print(out.stdout.strip(), flush=True)
        result = json.loads(out.stdout)
        if "articles" in result:
            rates.setdefault(result["articles"], []).append(result["docs_per_s_per_core"])
        else:
            n = result["baseline_articles"]
            base_rates.setdefault(n, []).append(result["baseline_docs_per_s_per_core"])
    for n, r in rates.items():
        if len(r) > 1:
            print(json.dumps({"articles": n, "runs": len(r), "docs_per_s_per_core_median":
                              round(statistics.median(r), 1), "min": min(r), "max": max(r)}), flush=True)
        if n in base_rates:
            # ours / baseline, round by round (the same round ran both)
            ratios = [round(a / b, 2) for a, b in zip(r, base_rates[n], strict=True)]
            print(json.dumps({"articles": n, "speedup_over_baseline_per_round": ratios,
                              "speedup_median": round(statistics.median(ratios), 2)}), flush=True)


if __name__ == "__main__":
    main()

"""Fingerprint of what `dedup.update` writes, to prove a change leaves the results as
they were: SHA-1 over every result table (pairs, flags, signatures, clusters, members,
containment links) after indexing a copy of a bench corpus database.

A speed change to dedup/ should print the same fingerprints before and after it. Run it
on the code of a checkout (--code, the directory holding `dedup/`) to compare two
versions side by side, e.g. the last commit in a worktree against the working copy:

    git worktree add /tmp/before HEAD
    python bench/dedup_identity.py --corpus /tmp/b100k/articles_100000.db --code /tmp/before
    python bench/dedup_identity.py --corpus /tmp/b100k/articles_100000.db

The corpus is an `articles_N.db` that `bench/dedup_bench.py` leaves in its --workdir (any
articles database works). --commit-every below the number of articles also checks that
windows give what one transaction gives; with --cold-index as well, each window reads
the LSH index back from the database as a new process does (nothing kept in memory
between windows, every lookup reading the docnos of the runs it found from the stored
segments), which must give the same fingerprints too. The CPU time of the update is printed too (one
run: compare speed with alternating runs, the machine's noise is ~10%).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TABLES = {
    "pairs": "SELECT * FROM dedup_pairs ORDER BY 1, 2",
    "flags": "SELECT article_id, background0, is_container, background "
    "FROM dedup_signatures ORDER BY 1",
    "signatures": "SELECT article_id, text_hash, passages, shingles, passage_sizes, "
    "signatures, published, credits_agency FROM dedup_signatures ORDER BY 1",
    "clusters": "SELECT * FROM clusters ORDER BY 1",
    "members": "SELECT * FROM cluster_members ORDER BY 1",
    "links": "SELECT * FROM dedup_contains ORDER BY 1, 2, 3",
}


def fingerprints(conn: sqlite3.Connection) -> dict[str, str]:
    """SHA-1 of each result table's rows in a fixed order, and of all of them."""
    out = {}
    whole = hashlib.sha1()
    for name, query in TABLES.items():
        h = hashlib.sha1()
        for row in conn.execute(query):
            h.update(repr(row).encode())
        out[name] = h.hexdigest()
        whole.update(h.digest())
    out["all"] = whole.hexdigest()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True, help="an articles database (copied, not changed)")
    ap.add_argument("--code", type=Path, default=ROOT, help="directory holding the dedup/ to run")
    ap.add_argument("--commit-every", type=int, default=None)
    ap.add_argument(
        "--cold-index",
        action="store_true",
        help="read the index back from the database in every window, runs of docnos from the blobs",
    )
    args = ap.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    import dedup

    if args.cold_index:
        from dedup import lsh
        from dedup.store import DedupStore

        save = DedupStore.save_lsh

        def save_and_forget(self: DedupStore, index: lsh.LshIndex) -> None:
            save(self, index)
            self.forget_lsh()

        DedupStore.save_lsh = save_and_forget  # type: ignore[method-assign]
        lsh.READ_RUNS_BELOW = 1

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "identity.db"
        shutil.copyfile(args.corpus, db)
        conn = sqlite3.connect(str(db), isolation_level=None)
        kwargs = {} if args.commit_every is None else {"commit_every": args.commit_every}
        cpu = time.process_time()
        dedup.update(conn, **kwargs)
        cpu = time.process_time() - cpu
        prints = fingerprints(conn)
        conn.close()
    print(f"code {Path(dedup.__file__).resolve().parent}")
    for name, digest in prints.items():
        print(f"{name:10s} {digest}")
    print(f"cpu        {cpu:.1f} s")


if __name__ == "__main__":
    main()

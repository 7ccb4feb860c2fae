"""What sketching an article costs (normalize, shingle; `dedup.sketch.sketch_texts`) on
real German text against the synthetic text of `bench/gen_corpus.py`, side by side in
one process: the dedup bench's corpora are ASCII, and real text with umlauts and
typographic quotes costs more to normalize. An update pays this for every new article
and again for every older one a window's candidates meet (their shingles are not
stored).

Real text: the labelled agency sets in ../shared/bench (`--shared`); synthetic: as many
generated articles. Prints microseconds of CPU per article and nanoseconds per
character, alternating the two sets `--rounds` times.

    python bench/sketch_bench.py --shared ../shared
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_corpus import generate  # noqa: E402

from dedup.params import Params  # noqa: E402
from dedup.sketch import sketch_texts  # noqa: E402


def cpu_per_article(texts: list[str], params: Params, seconds: float = 2.0) -> float:
    """CPU microseconds per article, sketching the whole list over and over for about `seconds`."""
    runs, spent = 0, 0.0
    while spent < seconds:
        t = time.process_time()
        sketch_texts(texts, params)
        spent += time.process_time() - t
        runs += 1
    return spent / runs / len(texts) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared data directory")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files = sorted((args.shared / "bench").glob("agency-dev-*/docs.jsonl"))
    if not files:
        sys.exit(f"no agency sets under {args.shared / 'bench'}: pass --shared")
    real = [json.loads(line)["text"] for f in files for line in f.open(encoding="utf-8")]
    synthetic = [d["text"] for _, d in zip(range(len(real)), generate(len(real)), strict=False)]
    params = Params()
    sketch_texts(real[:10], params)  # (compiled kernels loaded)
    for _ in range(args.rounds):
        for name, texts in (("real", real), ("synthetic", synthetic)):
            us = cpu_per_article(texts, params)
            chars = sum(map(len, texts)) / len(texts)
            print(json.dumps({"text": name, "articles": len(texts), "chars_per_article": round(chars),
                              "us_per_article": round(us, 1), "ns_per_char": round(us / chars * 1000, 1)}))


if __name__ == "__main__":
    main()

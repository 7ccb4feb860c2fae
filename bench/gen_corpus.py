"""Synthetic corpora of German-like news articles with planted agency copies.

Each story is ~400 words in paragraphs; it is published by 1-6 outlets as a verbatim
copy, a copy cut from the bottom, a lightly edited copy or one with a rewritten
lead. Some stories get a standard background paragraph from a small pool, and 2% of
the articles are live tickers quoting the leads of several recent stories. Words
are drawn Zipf-like from a generated vocabulary so common words recur as in text.

Usage:
    python bench/gen_corpus.py 10000 > corpus.jsonl   # {"url","outlet","title","text","published"}
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate

SYLLABLES = [
    "ber",
    "lin",
    "ge",
    "setz",
    "re",
    "gie",
    "rung",
    "wirt",
    "schaft",
    "kom",
    "mis",
    "sion",
    "an",
    "ver",
    "be",
    "zu",
    "ein",
    "aus",
    "stadt",
    "land",
    "markt",
    "preis",
    "bahn",
    "haus",
    "ung",
    "keit",
    "heit",
    "lich",
    "isch",
    "en",
    "er",
    "te",
    "ten",
    "st",
    "recht",
    "schul",
]
OUTLETS = [f"outlet{i:02d}" for i in range(60)]


class Corpus:
    def __init__(self, seed: int = 7, vocab: int = 20_000) -> None:
        self.rng = random.Random(seed)
        r = self.rng
        self.words = [
            "".join(r.choice(SYLLABLES) for _ in range(r.randint(1, 4))) for _ in range(vocab)
        ]
        # Zipf-like weights, as a cumulative table so choices() does not rebuild it per call.
        self.cum = list(accumulate(1.0 / (i + 1) ** 0.9 for i in range(vocab)))
        self.background = [self.paragraph(45) for _ in range(50)]

    def sentence(self, n: int) -> str:
        ws = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        return ws[0].capitalize() + " " + " ".join(ws[1:]) + "."

    def paragraph(self, n: int) -> str:
        out, left = [], n
        while left > 0:
            k = min(left, self.rng.randint(8, 18))
            out.append(self.sentence(k))
            left -= k
        return " ".join(out)

    def story(self) -> list[str]:
        return [self.paragraph(self.rng.randint(35, 60)) for _ in range(self.rng.randint(6, 10))]

    def edit(self, paras: list[str]) -> list[str]:
        r = self.rng
        out = []
        for p in paras:
            ws = p.split()
            for _ in range(max(1, len(ws) // 40)):
                ws[r.randrange(len(ws))] = r.choice(self.words)
            out.append(" ".join(ws))
        return out

    def version(self, paras: list[str]) -> list[str]:
        kind = self.rng.random()
        if kind < 0.35:
            return list(paras)
        if kind < 0.6:
            return paras[: max(3, int(len(paras) * self.rng.uniform(0.5, 0.9)))]
        if kind < 0.85:
            return self.edit(paras)
        return [self.paragraph(45), self.paragraph(40)] + paras[2:]  # rewritten lead


def generate(n: int, seed: int = 7) -> Iterator[dict[str, str]]:
    c = Corpus(seed)
    r = c.rng
    start = datetime(2025, 1, 1, tzinfo=UTC)
    recent: list[list[str]] = []
    i = 0
    while i < n:
        when = start + timedelta(minutes=i)
        if r.random() < 0.02 and len(recent) >= 8:
            entries = []
            for lead in r.sample(recent[-200:], r.randint(3, 8)):
                entries += [f"{when:%H.%M} Uhr: " + c.sentence(6), *lead[:2]]
            doc = {"title": "Liveticker " + c.sentence(4), "text": "\n\n".join(entries)}
            i += 1
            yield _row(doc, i, r, when)
            continue
        paras = c.story()
        if r.random() < 0.2:
            paras.append(r.choice(c.background))
        recent.append(paras)
        if len(recent) > 400:
            del recent[:-200]  # tickers quote the last 200 stories: keep memory flat
        title = c.sentence(7)
        for _ in range(min(n - i, r.choice([1, 1, 1, 2, 2, 3, 4, 6]))):
            body = "Foto: dpa\n\n" + "\n\n".join(c.version(paras)) + "\n\nZur Startseite"
            i += 1
            yield _row({"title": title, "text": body}, i, r, when)


def _row(doc: dict[str, str], i: int, r: random.Random, when: datetime) -> dict[str, str]:
    outlet = r.choice(OUTLETS)
    return {
        "url": f"https://{outlet}.example/{when:%Y/%m/%d}/a{i:07d}.html",
        "outlet": outlet,
        "title": doc["title"],
        "text": doc["text"],
        "published": (when + timedelta(minutes=r.randint(0, 600))).isoformat(),
    }


if __name__ == "__main__":
    n = int(sys.argv[1])
    for row in generate(n, seed=int(sys.argv[2]) if len(sys.argv) > 2 else 7):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")

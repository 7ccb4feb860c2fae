"""Generated local news for a large demo newsroom (benchmarks need >= 500 pages).

Each article draws its own town, topic, people and numbers from material.toml with a
generator seeded by its index, so the same index always gives the same article. Detail
sentences combine an opener with a clause and quotes combine a quote with a frame, so
two articles share little more than a few short template phrases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from crawler.demo.texts import Material

# Paragraph plan: the kind of each sentence, paragraph by paragraph.
PLAN = (
    ("lead", "detail"),
    ("detail", "detail", "quote"),
    ("detail", "hintergrund"),
    ("quote", "detail", "detail"),
    ("hintergrund", "detail"),
    ("detail", "quote"),
    ("ausblick",),
)


# Slots in the dative follow prepositions: "in dem Hafenviertel" reads "im Hafenviertel".
CONTRACTIONS = (
    ("in dem ", "im "),
    ("von dem ", "vom "),
    ("bei dem ", "beim "),
    ("zu dem ", "zum "),
)


@dataclass(frozen=True)
class GeneratedText:
    title: str
    kicker: str
    author: str
    paragraphs: tuple[str, ...]


class _Article:
    """Draws one article's cast and fills template slots; numbers are new for every slot."""

    def __init__(self, material: Material, rng: random.Random) -> None:
        self.m = material
        self.rng = rng
        self.ort = rng.choice(material.orte)
        self.teil = rng.choice(material.teile)
        self.thema = rng.choice(material.themen)
        self.org, self.org_dat = rng.choice(material.orgs)
        self.people = [(self.name(), rng.choice(material.rollen)) for _ in range(3)]
        # Each pool is shuffled once and popped, so nothing repeats inside an article.
        self.pools = {k: list(v) for k, v in material.templates.items()}
        for pool in self.pools.values():
            rng.shuffle(pool)

    def name(self) -> str:
        return f"{self.rng.choice(self.m.vornamen)} {self.rng.choice(self.m.nachnamen)}"

    def fill(self, template: str) -> str:
        rng = self.rng
        person, rolle = rng.choice(self.people)
        if rng.random() < 0.5:
            betrag = f"{rng.randint(12, 95) / 10:.1f}".replace(".", ",") + " Millionen Euro"
        else:
            betrag = f"{rng.randint(120, 980)}.000 Euro"
        text = template.format(
            ort=self.ort,
            teil=self.teil,
            wort=self.thema["wort"],
            thema_nom=self.thema["nom"],
            thema_akk=self.thema["akk"],
            thema_dat=self.thema["dat"],
            thema_nom_cap=self.thema["nom"][0].upper() + self.thema["nom"][1:],
            person=person,
            rolle=rolle,
            org=self.org,
            org_cap=self.org[0].upper() + self.org[1:],
            org_dat=self.org_dat,
            zahl=f"{rng.randint(12, 4800):,}".replace(",", "."),
            betrag=betrag,
            prozent=rng.randint(4, 61),
            monate=rng.randint(3, 30),
        )
        for long, short in CONTRACTIONS:
            text = text.replace(long, short)
        return text[0].upper() + text[1:]

    def sentence(self, kind: str) -> str:
        pools = self.pools
        if kind == "detail":
            return self.fill(f"{pools['opener'].pop()} {pools['clause'].pop()}.")
        if kind == "quote":
            return self.fill(pools["frame"].pop().replace("{q}", pools["quote"].pop()))
        return self.fill(pools[kind].pop())


def generate_text(index: int, material: Material) -> GeneratedText:
    """The generated article number `index`; deterministic."""
    art = _Article(material, random.Random(f"newsdedup-demo-{index}"))
    paragraphs = tuple(" ".join(art.sentence(kind) for kind in plan) for plan in PLAN)
    return GeneratedText(
        title=art.fill(art.pools["title"].pop()),
        kicker=art.thema["wort"],
        author=art.name(),
        paragraphs=paragraphs,
    )

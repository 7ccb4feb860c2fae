"""The demo newsroom's written material, loaded from the TOML files beside this module.

`stories.toml` holds the wire stories, `outlets.toml` the outlets with their copies, own
articles and live ticker, `material.toml` the sentence material for generated articles.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

AGENCIES = ("dpa", "AFP", "Reuters")


@dataclass(frozen=True)
class Story:
    """A wire story as the agency sent it."""

    id: str  # e.g. "dpa-sturm"; the ground-truth cluster id of its copies
    agency: str  # dpa | AFP | Reuters
    dateline: str  # place for "Hamburg (dpa) -"
    section: str
    kicker: str
    title: str
    hours_ago: float  # sent this long before the newsroom's `now`
    paragraphs: tuple[str, ...]  # body, standard background paragraphs included

    @property
    def lead(self) -> str:
        return self.paragraphs[0]


@dataclass(frozen=True)
class OutletSpec:
    """A fictional outlet and how a crawler discovers its articles."""

    id: str  # slug, the seeds file's `id`
    name: str
    country: str  # DE | AT | CH
    tz: str  # IANA zone for the dates it prints
    city: str
    path: str  # article path template: {section} {slug} {aid} {yyyy} {mm} {dd}
    local_section: str  # where generated articles go
    feed: str  # rss | atom | json | "" for none
    feed_path: str
    feed_limit: int  # newest N articles in the feed; 0 lists all
    news_sitemap: bool
    sitemap: str  # "" | plain | index-gz
    disallow: tuple[str, ...]  # robots.txt Disallow lines
    utm_in_feed: bool  # one feed link carries tracking parameters
    article_body_in_jsonld: bool
    tdm_optout: bool = False  # robots.txt shuts out AI crawlers; tdmrep.json reserves TDM rights


@dataclass(frozen=True)
class CopySpec:
    """How one outlet republishes one wire story."""

    outlet: str
    story: str
    style: str  # verbatim | cut | rewritten_lead | mixed | light_edit
    credit: tuple[str, ...]  # dateline | suffix | source | material | byline | combined
    author: str
    delay_minutes: int  # published this long after the story was sent
    title: str
    keep: int = 0  # cut: paragraphs kept
    lead: str = ""  # rewritten_lead: the outlet's own first paragraph
    lead_from: str = ""  # mixed: the story whose lead is used
    lead_paragraphs: int = 1  # mixed: how many paragraphs come from `lead_from`


@dataclass(frozen=True)
class OwnSpec:
    """An article an outlet wrote itself."""

    outlet: str
    section: str
    kicker: str
    title: str
    author: str
    hours_ago: float
    paragraphs: tuple[str, ...]
    too_old: bool = False  # only in the news sitemap, older than a crawl window


@dataclass(frozen=True)
class TickerEntry:
    hours_ago: float
    text: str = ""  # the outlet's own entry
    quote: str = ""  # or: id of the story whose lead it repeats word for word


@dataclass(frozen=True)
class TickerSpec:
    outlet: str
    section: str
    title: str
    author: str
    hours_ago: float  # when the ticker was opened
    entries: tuple[TickerEntry, ...]  # newest first


@dataclass(frozen=True)
class Material:
    """Pools for generated articles (see material.toml)."""

    orte: tuple[str, ...]
    teile: tuple[str, ...]
    vornamen: tuple[str, ...]
    nachnamen: tuple[str, ...]
    rollen: tuple[str, ...]
    orgs: tuple[tuple[str, str], ...]  # nominative, dative
    themen: tuple[dict[str, str], ...]
    templates: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Texts:
    stories: dict[str, Story]
    outlets: tuple[OutletSpec, ...]
    copies: tuple[CopySpec, ...]
    own: tuple[OwnSpec, ...]
    ticker: TickerSpec
    material: Material


def _load(name: str) -> dict[str, Any]:
    with open(HERE / name, "rb") as f:
        return tomllib.load(f)


def _paragraphs(body: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in body.strip().split("\n\n") if p.strip())


@cache
def load_texts() -> Texts:
    """Read and cross-check the TOML files; a broken reference fails loudly here."""
    raw = _load("stories.toml")
    background = {b["id"]: b["text"] for b in raw["background"]}
    stories: dict[str, Story] = {}
    for s in raw["story"]:
        paras = _paragraphs(s["body"]) + tuple(background[b] for b in s.get("background", []))
        stories[s["id"]] = Story(
            id=s["id"],
            agency=s["agency"],
            dateline=s["dateline"],
            section=s["section"],
            kicker=s["kicker"],
            title=s["title"],
            hours_ago=s["hours_ago"],
            paragraphs=paras,
        )
    raw = _load("outlets.toml")
    outlets = tuple(
        OutletSpec(
            id=o["id"],
            name=o["name"],
            country=o["country"],
            tz=o["tz"],
            city=o["city"],
            path=o["path"],
            local_section=o["local_section"],
            feed=o["feed"],
            feed_path=o["feed_path"],
            feed_limit=o.get("feed_limit", 0),
            news_sitemap=o["news_sitemap"],
            sitemap=o["sitemap"],
            disallow=tuple(o["disallow"]),
            utm_in_feed=o.get("utm_in_feed", False),
            article_body_in_jsonld=o.get("article_body_in_jsonld", False),
            tdm_optout=o.get("tdm_optout", False),
        )
        for o in raw["outlet"]
    )
    ids = {o.id for o in outlets}
    copies = []
    for c in raw["copy"]:
        c = dict(c)
        c["credit"] = tuple(c["credit"])
        spec = CopySpec(**c)
        for ref in (spec.story, spec.lead_from):
            if ref and ref not in stories:
                raise ValueError(f"outlets.toml: copy names unknown story {ref!r}")
        if spec.outlet not in ids:
            raise ValueError(f"outlets.toml: copy names unknown outlet {spec.outlet!r}")
        copies.append(spec)
    own = tuple(
        OwnSpec(
            outlet=o["outlet"],
            section=o["section"],
            kicker=o["kicker"],
            title=o["title"],
            author=o["author"],
            hours_ago=o["hours_ago"],
            paragraphs=_paragraphs(o["body"]),
            too_old=o.get("too_old", False),
        )
        for o in raw["own"]
    )
    t = raw["ticker"]
    ticker = TickerSpec(
        outlet=t["outlet"],
        section=t["section"],
        title=t["title"],
        author=t["author"],
        hours_ago=t["hours_ago"],
        entries=tuple(TickerEntry(**e) for e in t["entry"]),
    )
    m = _load("material.toml")
    material = Material(
        orte=tuple(m["orte"]),
        teile=tuple(m["teile"]),
        vornamen=tuple(m["vornamen"]),
        nachnamen=tuple(m["nachnamen"]),
        rollen=tuple(m["rollen"]),
        orgs=tuple((nom, dat) for nom, dat in m["orgs"]),
        themen=tuple(m["thema"]),
        templates={k: tuple(v) for k, v in m["templates"].items()},
    )
    return Texts(stories, outlets, tuple(copies), own, ticker, material)

"""Data model of the demo newsroom: pages, outlets and the ground truth of what is what."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crawler.demo.texts import OutletSpec

# Stands for an outlet's base URL ("http://127.0.0.1:PORT", no trailing slash) in
# stored bodies; replaced when served, because ports are only known then.
BASE = "@@BASE@@"

__all__ = [
    "BASE",
    "Article",
    "ArticleTruth",
    "Expected",
    "Newsroom",
    "OutletSite",
    "OutletSpec",
    "Resource",
    "Served",
]


@dataclass(frozen=True)
class ArticleTruth:
    """What an article page really is; end-to-end tests compare a crawl against it."""

    outlet: str  # outlet id
    path: str  # canonical path, unique across the newsroom
    title: str
    published: datetime  # UTC
    kind: str  # wire | own | ticker | generated
    story: str | None = None  # wire story the text derives from (mixed: the tail's story)
    style: str | None = None  # verbatim | cut | rewritten_lead | mixed | light_edit
    sources: Mapping[str, float] = field(default_factory=dict)  # story -> share of the copy's words
    agencies: tuple[str, ...] = ()  # agencies credited for the text (not for the photo)
    quotes: Mapping[str, float] = field(default_factory=dict)  # ticker: story -> share of it quoted
    photo_credit: str = ""  # e.g. "Foto: dpa" — an agency here does not make the text agency copy


@dataclass(frozen=True)
class Article:
    """An article page as rendered."""

    truth: ArticleTruth
    aid: int  # the outlet's article number, part of the path
    section: str
    kicker: str
    author: str
    author_is_organization: bool
    modified: datetime
    paragraphs: tuple[str, ...]
    source_line: str = ""  # "Quelle: AFP" under the body
    photo: tuple[str, str] = ("", "")  # caption, credit
    entries: tuple[tuple[datetime, str, str], ...] = ()  # ticker: time, text, credit
    listed: bool = True  # linked from homepage and section pages

    @property
    def path(self) -> str:
        return self.truth.path

    @property
    def title(self) -> str:
        return self.truth.title

    @property
    def published(self) -> datetime:
        return self.truth.published


@dataclass(frozen=True)
class Resource:
    """One servable file of an outlet; `body` may contain BASE."""

    body: str
    content_type: str
    # Feeds and sitemaps carry validators (ETag, Last-Modified) for conditional GET.
    last_modified: datetime | None = None
    gzip: bool = False


@dataclass(frozen=True)
class Served:
    """A resource with its base URL filled in, ready for the wire."""

    body: bytes
    content_type: str
    etag: str | None
    last_modified: datetime | None

    @classmethod
    def of(cls, resource: Resource, base: str) -> Served:
        data = resource.body.replace(BASE, base).encode("utf-8")
        if resource.gzip:
            data = gzip.compress(data, mtime=0)  # mtime=0 keeps the bytes deterministic
        etag = None
        if resource.last_modified is not None:
            etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
        return cls(data, resource.content_type, etag, resource.last_modified)


@dataclass(frozen=True)
class OutletSite:
    """One outlet: its files and the discovery URLs its seeds entry lists."""

    spec: OutletSpec
    resources: Mapping[str, Resource]  # path -> file
    feeds: tuple[str, ...]  # paths
    news_sitemaps: tuple[str, ...]
    sitemaps: tuple[str, ...]

    def seed(self, base: str) -> dict[str, object]:
        """This outlet's entry of a seeds file."""
        return {
            "id": self.spec.id,
            "name": self.spec.name,
            "homepage": f"{base}/",
            "country": self.spec.country,
            "language": "de",
            "feeds": [base + p for p in self.feeds],
            "news_sitemaps": [base + p for p in self.news_sitemaps],
            "sitemaps": [base + p for p in self.sitemaps],
            "allow": [],
            "deny": [],
        }


@dataclass(frozen=True)
class Expected:
    """Ground truth of a newsroom, keyed by path (article paths are unique newsroom-wide)."""

    articles: Mapping[str, ArticleTruth]  # what a crawl should store: canonical path -> truth
    too_old: Mapping[str, ArticleTruth]  # only in a news sitemap, older than 3 days: never fetch
    disallowed: Mapping[str, frozenset[str]]  # outlet -> linked paths its robots.txt forbids
    index_pages: Mapping[str, frozenset[str]]  # outlet -> homepage, sections, static pages
    aliases: Mapping[str, str]  # linked path with tracking query -> canonical path

    @property
    def tickers(self) -> dict[str, tuple[str, ...]]:
        """Ticker path -> stories whose lead it quotes."""
        return {p: tuple(t.quotes) for p, t in self.articles.items() if t.kind == "ticker"}

    def copies_of(self, story: str) -> list[str]:
        """Paths of the articles derived from `story` (mixed copies count for both parts)."""
        return sorted(p for p, t in self.articles.items() if story in t.sources)

    def article_urls(self, bases: Mapping[str, str]) -> dict[str, ArticleTruth]:
        """Canonical URL -> truth, given each outlet's base URL."""
        return {bases[t.outlet] + p: t for p, t in self.articles.items()}

    def must_not_fetch(self, bases: Mapping[str, str]) -> dict[str, str]:
        """URL -> why a polite, windowed crawl never requests it (too_old | robots)."""
        out = {bases[t.outlet] + p: "too_old" for p, t in self.too_old.items()}
        for outlet, paths in self.disallowed.items():
            out.update({bases[outlet] + p: "robots" for p in paths})
        return out

    def not_articles(self, bases: Mapping[str, str]) -> set[str]:
        """URLs of pages that are served but are not articles."""
        return {bases[o] + p for o, paths in self.index_pages.items() for p in paths}

    def gold(self, bases: Mapping[str, str]) -> dict[str, dict]:
        """Dedup ground truth in the format of ../shared/tools/score_dedup.py:
        clusters (URL -> story id; articles from no story get their own id) and
        containers (ticker URL -> {story: share of the story it quotes})."""
        clusters: dict[str, str] = {}
        containers: dict[str, dict[str, float]] = {}
        for url, t in self.article_urls(bases).items():
            if t.kind == "ticker":
                containers[url] = dict(t.quotes)
            else:
                clusters[url] = t.story or f"solo:{t.outlet}{t.path}"
        return {"clusters": clusters, "containers": containers}


@dataclass(frozen=True)
class Newsroom:
    """The whole demo newsroom for one `now`: every outlet's files plus the truth."""

    now: datetime
    outlets: Mapping[str, OutletSite]  # id -> site, in seeds order
    expected: Expected

    def seeds_toml(self, bases: Mapping[str, str]) -> str:
        """A seeds file for the outlets served at `bases` (outlet id -> base URL)."""
        lines = [
            "# Seeds of the newsdedup demo newsroom, served on loopback.",
            f"# Generated for now = {self.now.isoformat()}.",
        ]
        for oid, site in self.outlets.items():
            lines.append("")
            lines.append("[[outlet]]")
            for key, value in site.seed(bases[oid]).items():
                lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")

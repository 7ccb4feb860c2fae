"""Build the demo newsroom: every outlet's pages, feeds and sitemaps, and the ground truth.

`build_newsroom(now)` is pure and deterministic: the same `now` gives the same bytes.
All current articles are dated within the last 30 hours before `now`, so a default crawl
window keeps them; two articles in a news sitemap are days older and must be skipped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from crawler.demo import feeds, pages
from crawler.demo.copies import house_style, make_copy
from crawler.demo.generated import generate_text
from crawler.demo.model import (
    Article,
    ArticleTruth,
    Expected,
    Newsroom,
    OutletSite,
    Resource,
)
from crawler.demo.texts import AGENCIES, OutletSpec, Texts, load_texts

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
FEED_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
SECTION_ORDER = (
    "news",
    "lokales",
    "hamburg",
    "muenchen",
    "wien",
    "zuerich",
    "bremen",
    "berlin",
    "politik",
    "wirtschaft",
    "panorama",
    "sport",
    "wissen",
    "kultur",
    "meinung",
)
# Photo captions of the wire stories; the credit names the photo agency.
CAPTIONS = {
    "dpa-sturm": "Ein umgestürzter Baum liegt nach der Sturmnacht auf den Gleisen.",
    "afp-sturm": "Wartende Reisende vor einer Anzeigetafel mit gestrichenen Verbindungen.",
    "reuters-ezb": "Das Hochhaus der Europäischen Zentralbank im Frankfurter Ostend.",
    "dpa-ezb": "Euro-Skulptur vor dem früheren Sitz der Notenbank in Frankfurt.",
    "dpa-bahnstreik": "Ein ICE steht während eines früheren Warnstreiks im Bahnhof.",
    "afp-klima": "Delegierte im Plenarsaal des Konferenzzentrums in Bonn.",
    "reuters-zulieferer": "Blick in eine Fertigungshalle des Zulieferers.",
    "dpa-schwimmen": "Jubel nach dem Anschlag: der neue Rekordhalter im Becken.",
    "afp-satellit": "Die Vega-C-Rakete beim Start in Kourou.",
    "dpa-bau": "Ein Baukran über einem Rohbau in einem Neubaugebiet.",
    "reuters-inflation": "Eine Kundin prüft an einer Supermarktkasse ihren Kassenbon.",
    "dpa-windkraft": "Windräder drehen sich hinter einem Rapsfeld.",
}
PHOTO_CREDITS = {"dpa": "Foto: dpa", "AFP": "© IMAGO / AFP", "Reuters": "Foto: Reuters"}
LOCAL_CREDITS = ("Foto: Archiv", "Foto: privat", "© IMAGO / Pressefoto", "Foto: dpa")
TICKER_INTRO = (
    "Sturm im Norden, Warnstreik bei der Bahn, neue Zahlen zur Inflation: In unserem "
    "Liveticker fassen wir die wichtigsten Nachrichten des Tages zusammen. Die neuesten "
    "Einträge stehen oben."
)
UTM = "?utm_source=rss&utm_medium=feed&utm_campaign=nachrichten"


def slugify(title: str) -> str:
    """German URL slug: umlauts spelled out, at most about 60 characters."""
    text = title.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rsplit("-", 1)[0]
    return slug


class _Builder:
    """Collects the articles of all outlets, then renders their files."""

    def __init__(self, now: datetime, texts: Texts) -> None:
        self.now = now
        self.texts = texts
        self.specs = {o.id: o for o in texts.outlets}
        self.articles: dict[str, list[Article]] = {o.id: [] for o in texts.outlets}
        self.aids: set[int] = set()
        self.paths: set[str] = set()

    # -- helpers -------------------------------------------------------------------

    def when(self, hours_ago: float) -> datetime:
        t = self.now - timedelta(hours=hours_ago)
        return t.replace(second=0, microsecond=0)

    def aid(self, key: str) -> int:
        n = int(hashlib.blake2b(key.encode(), digest_size=8).hexdigest(), 16) % 900_000 + 100_000
        while n in self.aids:
            n += 1
        self.aids.add(n)
        return n

    def path(
        self, outlet: OutletSpec, section: str, title: str, aid: int, published: datetime
    ) -> str:
        local = pages.local_time(published, outlet)
        path = outlet.path.format(
            section=section,
            slug=slugify(title),
            aid=aid,
            yyyy=f"{local.year:04d}",
            mm=f"{local.month:02d}",
            dd=f"{local.day:02d}",
        )
        if path in self.paths:
            raise ValueError(f"two demo articles share the path {path}")
        self.paths.add(path)
        return path

    def add(
        self,
        outlet: OutletSpec,
        key: str,
        *,
        section: str,
        kicker: str,
        title: str,
        author: str,
        published: datetime,
        paragraphs: Sequence[str],
        kind: str,
        photo: tuple[str, str],
        modified: datetime | None = None,
        **extra: object,
    ) -> Article:
        aid = self.aid(key)
        truth_fields = {
            k: extra.pop(k)
            for k in ("story", "style", "sources", "agencies", "quotes")
            if k in extra
        }
        truth = ArticleTruth(
            outlet=outlet.id,
            path=self.path(outlet, section, title, aid, published),
            title=title,
            published=published,
            kind=kind,
            photo_credit=photo[1],
            **truth_fields,  # type: ignore[arg-type]
        )
        organization = author in AGENCIES or outlet.name in author or "Redaktion" in author
        article = Article(
            truth=truth,
            aid=aid,
            section=section,
            kicker=kicker,
            author=author,
            author_is_organization=organization
            or author.startswith(("Newsdesk", "Wirtschaftsred")),
            modified=modified or published,
            paragraphs=tuple(paragraphs),
            photo=photo,
            **extra,  # type: ignore[arg-type]
        )
        self.articles[outlet.id].append(article)
        return article

    # -- content -------------------------------------------------------------------

    def wire_copies(self) -> None:
        stories = self.texts.stories
        for spec in self.texts.copies:
            outlet = self.specs[spec.outlet]
            story = stories[spec.story]
            copy = make_copy(spec, stories, outlet.country)
            published = self.when(story.hours_ago) + timedelta(minutes=spec.delay_minutes)
            self.add(
                outlet,
                f"copy:{spec.outlet}:{spec.story}",
                section=story.section,
                kicker=story.kicker,
                title=house_style(spec.title, outlet.country),
                author=spec.author,
                published=published,
                paragraphs=copy.paragraphs,
                kind="wire",
                photo=(
                    house_style(CAPTIONS[story.id], outlet.country),
                    PHOTO_CREDITS[story.agency],
                ),
                story=story.id,
                style=spec.style,
                sources=copy.sources,
                agencies=copy.agencies,
                source_line=copy.source_line,
            )

    def own_articles(self) -> None:
        for i, own in enumerate(self.texts.own):
            outlet = self.specs[own.outlet]
            # The first own article carries an agency photo credit: photo credits must
            # not make a text agency copy.
            credit = "Foto: dpa" if i == 0 else f"Foto: {own.author}"
            self.add(
                outlet,
                f"own:{own.outlet}:{own.title}",
                section=own.section,
                kicker=own.kicker,
                title=own.title,
                author=own.author,
                published=self.when(own.hours_ago),
                paragraphs=own.paragraphs,
                kind="own",
                photo=(f"{own.kicker}: ein Bild aus {outlet.city}.", credit),
                listed=not own.too_old,
            )

    def ticker(self) -> None:
        spec = self.texts.ticker
        outlet = self.specs[spec.outlet]
        stories = self.texts.stories
        entries = []
        quotes: dict[str, float] = {}
        for e in spec.entries:
            if e.quote:
                story = stories[e.quote]
                words = sum(len(p.split()) for p in story.paragraphs)
                quotes[story.id] = round(len(story.lead.split()) / words, 3)
                entries.append((self.when(e.hours_ago), story.lead, f"({story.agency})"))
            else:
                entries.append((self.when(e.hours_ago), e.text, ""))
        agencies = tuple(dict.fromkeys(stories[s].agency for s in quotes))
        self.add(
            outlet,
            "ticker",
            section=spec.section,
            kicker="Liveticker",
            title=spec.title,
            author=spec.author,
            published=self.when(spec.hours_ago),
            modified=max(t for t, _, _ in entries),
            paragraphs=(TICKER_INTRO,) + tuple(f"{t} {c}".strip() for _, t, c in entries),
            kind="ticker",
            photo=("Die Redaktion der Spree-Depesche am Newsdesk.", "Foto: Spree-Depesche"),
            quotes=quotes,
            agencies=agencies,
            entries=tuple(entries),
            source_line=f"({', '.join(agencies)})",
        )

    def generated(self, count: int) -> None:
        outlets = self.texts.outlets
        for i in range(count):
            outlet = outlets[i % len(outlets)]
            text = generate_text(i, self.texts.material)
            # Golden-ratio steps spread the dates evenly over the last 30 hours.
            hours_ago = 0.25 + ((i * 0.6180339887498949) % 1.0) * 29.5
            self.add(
                outlet,
                f"generated:{i}",
                section=outlet.local_section,
                kicker=text.kicker,
                title=house_style(text.title, outlet.country),
                author=text.author,
                published=self.when(hours_ago),
                paragraphs=tuple(house_style(p, outlet.country) for p in text.paragraphs),
                kind="generated",
                photo=(
                    f"{text.kicker}: ein Bild aus dem Archiv.",
                    LOCAL_CREDITS[i % len(LOCAL_CREDITS)],
                ),
            )

    # -- files ---------------------------------------------------------------------

    def site(
        self, outlet: OutletSpec
    ) -> tuple[OutletSite, dict[str, str], frozenset[str], frozenset[str]]:
        """Files of one outlet, plus its aliases, index pages and disallowed links."""
        everything = sorted(
            self.articles[outlet.id], key=lambda a: (a.published, a.aid), reverse=True
        )
        listed = [a for a in everything if a.listed]
        sections = [s for s in SECTION_ORDER if any(a.section == s for a in listed)]
        year = pages.local_time(self.now, outlet).year
        res: dict[str, Resource] = {}
        aliases: dict[str, str] = {}
        disallowed: set[str] = set()

        for a in everything:
            related = [b for b in listed if b.section == a.section and b is not a][:3]
            most_read = [b for b in listed if b is not a][:4]
            res[a.path] = Resource(
                pages.article_page(a, outlet, sections, related, most_read), HTML
            )

        extra_links: list[tuple[str, str]] = []
        if outlet.id == "weser-echo":
            # A link robots.txt forbids, and a teaser link with a fragment.
            intern = "/intern/redaktionsplan.html"
            disallowed.add(intern)
            res[intern] = Resource(
                pages.plain_page(
                    outlet,
                    intern,
                    "Redaktionsplan (intern)",
                    ["Nur für die Redaktion: Dienstplan und Themenliste der Woche."],
                    year,
                ),
                HTML,
            )
            extra_links.append((intern, "Redaktionsplan (intern)"))
            target = listed[1].path
            aliases[target + "#kommentare"] = target
            extra_links.append((target + "#kommentare", f"Kommentare: {listed[1].title}"))
        extra_links.append(("/impressum.html", "Impressum"))
        res["/"] = Resource(
            pages.index_page(
                outlet,
                "/",
                f"{outlet.name} – Nachrichten aus {outlet.city}",
                sections,
                listed,
                year,
                extra_links,
            ),
            HTML,
        )
        index = {"/", "/impressum.html", "/datenschutz.html"}
        for s in sections:
            path = f"/{s}/"
            index.add(path)
            name = pages.SECTION_NAMES.get(s, s)
            res[path] = Resource(
                pages.index_page(
                    outlet,
                    path,
                    f"{name} – {outlet.name}",
                    sections,
                    [a for a in listed if a.section == s],
                    year,
                ),
                HTML,
            )
        res["/impressum.html"] = Resource(
            pages.plain_page(
                outlet,
                "/impressum.html",
                "Impressum",
                [
                    f"{outlet.name} ist ein fiktives Medium des newsdedup-Demo-Newsrooms.",
                    "Alle Texte sind für dieses Projekt geschrieben; "
                    "Namen und Ereignisse sind erfunden.",
                ],
                year,
            ),
            HTML,
        )
        res["/datenschutz.html"] = Resource(
            pages.plain_page(
                outlet,
                "/datenschutz.html",
                "Datenschutzerklärung",
                [
                    "Diese Demo speichert keine personenbezogenen Daten und setzt keine Cookies.",
                ],
                year,
            ),
            HTML,
        )

        feed_paths: list[str] = []
        if outlet.feed:
            items = listed[: outlet.feed_limit] if outlet.feed_limit else listed
            links: dict[str, str] = {}
            if outlet.utm_in_feed:
                tracked = next(a for a in items if a.truth.kind == "wire")
                links[tracked.path] = tracked.path + UTM
                aliases[tracked.path + UTM] = tracked.path
            render = {"rss": feeds.rss, "atom": feeds.atom, "json": feeds.json_feed}[outlet.feed]
            res[outlet.feed_path] = Resource(
                render(outlet, items, links),
                FEED_TYPES[outlet.feed],
                max(a.modified for a in items),
            )
            feed_paths.append(outlet.feed_path)

        news_paths: list[str] = []
        if outlet.news_sitemap:
            # The news sitemap also lists articles older than the crawl window.
            res["/news-sitemap.xml"] = Resource(
                feeds.news_sitemap(outlet, everything), XML, max(a.modified for a in everything)
            )
            news_paths.append("/news-sitemap.xml")

        sitemap_paths: list[str] = []
        robots_sitemaps: list[str] = []
        newest = max(a.modified for a in listed)
        if outlet.sitemap == "plain":
            res["/sitemap.xml"] = Resource(feeds.sitemap(outlet, listed), XML, newest)
            sitemap_paths.append("/sitemap.xml")
        elif outlet.sitemap == "index-gz":
            gz = "/sitemaps/artikel-1.xml.gz"
            res[gz] = Resource(feeds.sitemap(outlet, listed), "application/gzip", newest, gzip=True)
            res["/sitemap-index.xml"] = Resource(
                feeds.sitemap_index(outlet, [(gz, newest)]), XML, newest
            )
            robots_sitemaps.append("/sitemap-index.xml")  # listed nowhere else
        elif outlet.sitemap:
            raise ValueError(f"outlets.toml: unknown sitemap kind {outlet.sitemap!r}")
        res["/robots.txt"] = Resource(
            feeds.robots(outlet.disallow, robots_sitemaps, tdm_optout=outlet.tdm_optout),
            "text/plain; charset=utf-8",
        )
        if outlet.tdm_optout:
            res["/.well-known/tdmrep.json"] = Resource(feeds.tdmrep(), "application/json")
        site = OutletSite(outlet, res, tuple(feed_paths), tuple(news_paths), tuple(sitemap_paths))
        return site, aliases, frozenset(index), frozenset(disallowed)


def build_newsroom(now: datetime | None = None, extra_articles: int = 0) -> Newsroom:
    """The demo newsroom as of `now` (timezone-aware; default: the current time).

    `extra_articles` adds that many generated local articles, spread over the outlets
    and listed in their feeds and sitemaps, for crawls of 500 pages and more.
    """
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware, e.g. datetime.now(UTC)")
    if extra_articles < 0:
        raise ValueError("extra_articles must be 0 or more")
    now = now.astimezone(UTC)
    builder = _Builder(now, load_texts())
    builder.wire_copies()
    builder.own_articles()
    builder.ticker()
    builder.generated(extra_articles)

    sites: dict[str, OutletSite] = {}
    aliases: dict[str, str] = {}
    index_pages: dict[str, frozenset[str]] = {}
    disallowed: dict[str, frozenset[str]] = {}
    for outlet in builder.texts.outlets:
        site, site_aliases, index, forbidden = builder.site(outlet)
        sites[outlet.id] = site
        aliases.update(site_aliases)
        index_pages[outlet.id] = index
        disallowed[outlet.id] = forbidden
    all_articles = [a for arts in builder.articles.values() for a in arts]
    expected = Expected(
        articles={a.path: a.truth for a in all_articles if a.listed},
        too_old={a.path: a.truth for a in all_articles if not a.listed},
        disallowed=disallowed,
        index_pages=index_pages,
        aliases=aliases,
    )
    return Newsroom(now=now, outlets=sites, expected=expected)

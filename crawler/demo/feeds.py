"""Discovery files of the demo outlets: RSS 2.0, Atom, JSON Feed, sitemaps, robots.txt."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from crawler.demo.model import BASE, Article, OutletSpec
from crawler.demo.pages import local_time


def _summary(article: Article) -> str:
    first = article.paragraphs[0] if article.paragraphs else article.title
    return first if len(first) < 240 else first[:237].rsplit(" ", 1)[0] + " …"


def _link(article: Article, links: Mapping[str, str]) -> str:
    return BASE + links.get(article.path, article.path)


def rss(outlet: OutletSpec, articles: Sequence[Article], links: Mapping[str, str]) -> str:
    """RSS 2.0 with dc:creator, as most German CMSs write it."""
    updated = max(a.modified for a in articles)
    items = []
    for a in articles:
        items.append(
            f"""<item>
<title>{escape(a.title)}</title>
<link>{escape(_link(a, links))}</link>
<guid isPermaLink="false">{escape(outlet.id)}-{a.aid}</guid>
<pubDate>{format_datetime(local_time(a.published, outlet))}</pubDate>
<dc:creator>{escape(a.author)}</dc:creator>
<category>{escape(a.kicker)}</category>
<description>{escape(_summary(a))}</description>
</item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{escape(outlet.name)} – Nachrichten</title>
<link>{BASE}/</link>
<description>Aktuelle Nachrichten aus {escape(outlet.city)} und der Welt</description>
<language>de-{outlet.country.lower()}</language>
<lastBuildDate>{format_datetime(local_time(updated, outlet))}</lastBuildDate>
<atom:link href="{BASE}{escape(outlet.feed_path)}" rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
</channel>
</rss>
"""


def atom(outlet: OutletSpec, articles: Sequence[Article], links: Mapping[str, str]) -> str:
    updated = max(a.modified for a in articles)
    entries = []
    for a in articles:
        entries.append(
            f"""<entry>
<id>tag:{escape(outlet.id)}.example,2024:{a.aid}</id>
<title>{escape(a.title)}</title>
<link rel="alternate" type="text/html" href="{escape(_link(a, links))}"/>
<published>{local_time(a.published, outlet).isoformat()}</published>
<updated>{local_time(a.modified, outlet).isoformat()}</updated>
<author><name>{escape(a.author)}</name></author>
<summary>{escape(_summary(a))}</summary>
</entry>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
<id>tag:{escape(outlet.id)}.example,2024:feed</id>
<title>{escape(outlet.name)}</title>
<subtitle>Die neuesten Artikel</subtitle>
<updated>{local_time(updated, outlet).isoformat()}</updated>
<link rel="self" href="{BASE}{escape(outlet.feed_path)}"/>
<link rel="alternate" type="text/html" href="{BASE}/"/>
{chr(10).join(entries)}
</feed>
"""


def json_feed(outlet: OutletSpec, articles: Sequence[Article], links: Mapping[str, str]) -> str:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": outlet.name,
        "home_page_url": f"{BASE}/",
        "feed_url": f"{BASE}{outlet.feed_path}",
        "language": "de-DE",
        "items": [
            {
                "id": f"{outlet.id}-{a.aid}",
                "url": _link(a, links),
                "title": a.title,
                "summary": _summary(a),
                "date_published": local_time(a.published, outlet).isoformat(),
                "date_modified": local_time(a.modified, outlet).isoformat(),
                "authors": [{"name": a.author}],
                "tags": [a.kicker],
            }
            for a in articles
        ],
    }
    return json.dumps(feed, ensure_ascii=False, indent=1) + "\n"


def news_sitemap(outlet: OutletSpec, articles: Sequence[Article]) -> str:
    """Google News sitemap (https://developers.google.com/search/docs/crawling-indexing/sitemaps/news-sitemap)."""
    urls = []
    for a in articles:
        urls.append(
            f"""<url>
<loc>{BASE}{escape(a.path)}</loc>
<news:news>
<news:publication><news:name>{escape(outlet.name)}</news:name><news:language>de</news:language></news:publication>
<news:publication_date>{local_time(a.published, outlet).isoformat()}</news:publication_date>
<news:title>{escape(a.title)}</news:title>
</news:news>
</url>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{chr(10).join(urls)}
</urlset>
"""


def sitemap(outlet: OutletSpec, articles: Sequence[Article]) -> str:
    urls = "\n".join(
        f"<url><loc>{BASE}{escape(a.path)}</loc>"
        f"<lastmod>{local_time(a.modified, outlet).isoformat()}</lastmod></url>"
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}
</urlset>
"""


def tdmrep() -> str:
    """/.well-known/tdmrep.json (W3C TDMRep): text and data mining rights reserved site-wide."""
    return json.dumps([{"location": "/*", "tdm-reservation": 1,
                        "tdm-policy": f"{BASE}/lizenzen/tdm-policy.json"}], indent=2) + "\n"


def sitemap_index(outlet: OutletSpec, children: Sequence[tuple[str, datetime]]) -> str:
    entries = "\n".join(
        f"<sitemap><loc>{BASE}{escape(path)}</loc>"
        f"<lastmod>{local_time(lastmod, outlet).isoformat()}</lastmod></sitemap>"
        for path, lastmod in children
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}
</sitemapindex>
"""


# Crawlers that gather text for AI training, shut out by an outlet with `tdm_optout`.
AI_CRAWLERS = ("GPTBot", "CCBot", "Google-Extended")


def robots(disallow: Sequence[str], sitemaps: Sequence[str], *, tdm_optout: bool = False) -> str:
    lines = ["# robots.txt", "User-agent: *"]
    lines += [f"Disallow: {p}" for p in disallow] or ["Disallow:"]
    if tdm_optout:
        lines += [""] + [f"User-agent: {agent}" for agent in AI_CRAWLERS] + ["Disallow: /"]
    lines += [""] + [f"Sitemap: {BASE}{p}" for p in sitemaps]
    return "\n".join(lines).rstrip() + "\n"

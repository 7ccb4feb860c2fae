"""HTML of the demo outlets: article pages with real page furniture, index pages.

Every page carries what extraction has to see past: a cookie banner, navigation,
teasers, a photo caption with an agency credit, a newsletter box, "Mehr zum Thema",
a footer. `BASE` stands for the outlet's base URL, filled in when served.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from crawler.demo.model import BASE, Article, OutletSpec

SECTION_NAMES = {
    "politik": "Politik",
    "wirtschaft": "Wirtschaft",
    "panorama": "Panorama",
    "sport": "Sport",
    "wissen": "Wissen",
    "kultur": "Kultur",
    "meinung": "Meinung",
    "lokales": "Köln & Region",
    "hamburg": "Hamburg",
    "muenchen": "München",
    "wien": "Wien",
    "zuerich": "Zürich",
    "bremen": "Bremen",
    "berlin": "Berlin",
    "news": "Nachrichten",
}


def local_time(dt: datetime, outlet: OutletSpec) -> datetime:
    return dt.astimezone(ZoneInfo(outlet.tz))


def display_time(dt: datetime, outlet: OutletSpec) -> str:
    return local_time(dt, outlet).strftime("%d.%m.%Y, %H:%M Uhr")


def _head(outlet: OutletSpec, title: str, canonical: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {escape(outlet.name)}</title>
<link rel="canonical" href="{BASE}{escape(canonical)}">
<link rel="stylesheet" href="/static/site.css">
{extra}</head>
<body>
<div id="cookie-consent" class="cookie-banner" role="dialog">
<p>Wir verwenden Cookies und ähnliche Technologien, um Inhalte zu personalisieren und die Zugriffe
auf unsere Website zu analysieren. Mit „Alle akzeptieren“ stimmen Sie der Verarbeitung zu.
Details finden Sie in unserer <a href="/datenschutz.html">Datenschutzerklärung</a>.</p>
<button type="button">Alle akzeptieren</button> <button type="button">Einstellungen</button>
</div>
"""


def _header(outlet: OutletSpec, sections: Sequence[str]) -> str:
    items = "\n".join(
        f'<li><a href="/{s}/">{escape(SECTION_NAMES.get(s, s.title()))}</a></li>' for s in sections
    )
    return f"""<header class="site-header">
<a class="logo" href="/">{escape(outlet.name)}</a>
<p class="claim">Nachrichten aus {escape(outlet.city)} und der Welt</p>
<nav class="main-nav" aria-label="Hauptnavigation"><ul>
<li><a href="/">Startseite</a></li>
{items}
</ul></nav>
</header>
"""


def _footer(outlet: OutletSpec, year: int) -> str:
    return f"""<footer class="site-footer">
<p><a href="/">Zur Startseite</a></p>
<ul class="footer-links">
<li><a href="/impressum.html">Impressum</a></li>
<li><a href="/datenschutz.html">Datenschutz</a></li>
<li><a href="/impressum.html#kontakt">Kontakt</a></li>
<li><a href="/impressum.html#abo">Abo &amp; Service</a></li>
</ul>
<p>© {year} {escape(outlet.name)}. Alle Rechte vorbehalten.</p>
</footer>
</body>
</html>
"""


NEWSLETTER = """<aside class="newsletter-box">
<h3>Der Morgen-Newsletter</h3>
<p>Die wichtigsten Nachrichten des Tages, jeden Morgen um sechs in Ihrem Postfach. Kostenlos und
jederzeit abbestellbar.</p>
<form action="/newsletter" method="post"><input type="email" name="email"
placeholder="Ihre E-Mail-Adresse"> <button type="submit">Jetzt anmelden</button></form>
</aside>
"""


def _teaser_list(heading: str, css: str, teasers: Sequence[Article], outlet: OutletSpec) -> str:
    if not teasers:
        return ""
    items = "\n".join(
        f'<li><a href="{escape(t.path)}"><span class="kicker">{escape(t.kicker)}</span> '
        f"{escape(t.title)}</a> <time>{display_time(t.published, outlet)}</time></li>"
        for t in teasers
    )
    return f'<section class="{css}"><h2>{heading}</h2><ul>\n{items}\n</ul></section>\n'


def _json_ld(article: Article, outlet: OutletSpec, body: bool) -> str:
    author_type = "Organization" if article.author_is_organization else "Person"
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": local_time(article.published, outlet).isoformat(),
        "dateModified": local_time(article.modified, outlet).isoformat(),
        "author": [{"@type": author_type, "name": article.author}],
        "publisher": {
            "@type": "Organization",
            "name": outlet.name,
            "logo": {"@type": "ImageObject", "url": f"{BASE}/static/logo.png"},
        },
        "mainEntityOfPage": f"{BASE}{article.path}",
        "image": f"{BASE}/bilder/{article.aid}.jpg",
        "inLanguage": "de",
    }
    if body:
        data["articleBody"] = "\n\n".join(article.paragraphs)
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>\n'


def article_page(
    article: Article,
    outlet: OutletSpec,
    sections: Sequence[str],
    related: Sequence[Article],
    most_read: Sequence[Article],
) -> str:
    """An article (or live ticker) page."""
    section_name = escape(SECTION_NAMES.get(article.section, article.section))
    summary = article.paragraphs[0] if article.paragraphs else article.title
    description = summary if len(summary) < 160 else summary[:157].rsplit(" ", 1)[0] + " …"
    meta = (
        f'<meta name="description" content="{escape(description)}">\n'
        f'<meta name="author" content="{escape(article.author)}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{escape(article.title)}">\n'
        f'<meta property="og:site_name" content="{escape(outlet.name)}">\n'
        f'<meta property="og:url" content="{BASE}{escape(article.path)}">\n'
        f'<meta property="og:image" content="{BASE}/bilder/{article.aid}.jpg">\n'
        f'<meta property="article:published_time" '
        f'content="{local_time(article.published, outlet).isoformat()}">\n'
        f'<meta property="article:section" content="{section_name}">\n'
        + _json_ld(article, outlet, outlet.article_body_in_jsonld)
    )
    caption, credit = article.photo
    figure = (
        f'<figure class="lead-image"><img src="/bilder/{article.aid}.jpg" alt="" width="1200" '
        f'height="675"><figcaption>{escape(caption)} <span class="credit">{escape(credit)}</span>'
        f"</figcaption></figure>\n"
    )
    paras = [f"<p>{escape(p)}</p>" for p in article.paragraphs]
    if article.entries:
        paras = [f"<p>{escape(article.paragraphs[0])}</p>"] if article.paragraphs else []
        for when, text, credit in article.entries:
            stamp = local_time(when, outlet)
            suffix = f' <span class="source">{escape(credit)}</span>' if credit else ""
            paras.append(
                f'<div class="ticker-entry"><time datetime="{stamp.isoformat()}">'
                f"{stamp.strftime('%H:%M')} Uhr</time>\n"
                f"<p>{escape(text)}{suffix}</p></div>"
            )
    # The photo goes after the first paragraph and the newsletter box mid-article,
    # where real sites put them, so extraction has to step over both.
    body = paras[:1] + [figure] + paras[1:4] + [NEWSLETTER] + paras[4:]
    if article.source_line:
        body.append(f'<p class="source-line"><em>{escape(article.source_line)}</em></p>')
    byline = (
        f'<p class="byline">Von <span class="author">{escape(article.author)}</span> · '
        f'<time datetime="{local_time(article.published, outlet).isoformat()}">'
        f"{display_time(article.published, outlet)}</time></p>\n"
    )
    return (
        _head(outlet, article.title, article.path, meta)
        + _header(outlet, sections)
        + '<main class="content">\n<nav class="breadcrumb"><a href="/">Startseite</a> › '
        + f'<a href="/{article.section}/">{section_name}</a></nav>\n'
        + '<article class="article">\n'
        + f'<p class="kicker">{escape(article.kicker)}</p>\n<h1>{escape(article.title)}</h1>\n'
        + byline
        + '<div class="article-body">\n'
        + "\n".join(body)
        + "\n</div>\n"
        + '<p class="share">Artikel teilen: <a href="/teilen?medium=mail">E-Mail</a> · '
        + '<a href="/teilen?medium=messenger">Messenger</a></p>\n'
        + _teaser_list("Mehr zum Thema", "related", related, outlet)
        + "</article>\n"
        + _teaser_list("Meistgelesen", "most-read", most_read, outlet)
        + '<p class="back"><a href="/">Zur Startseite</a></p>\n'
        + "</main>\n"
        + _footer(outlet, local_time(article.published, outlet).year)
    )


def index_page(
    outlet: OutletSpec,
    path: str,
    heading: str,
    sections: Sequence[str],
    articles: Sequence[Article],
    year: int,
    extra_links: Sequence[tuple[str, str]] = (),
) -> str:
    """The homepage or a section page: teasers, nothing to extract."""
    teasers = []
    for a in articles:
        first = a.paragraphs[0] if a.paragraphs else ""
        teaser = first if len(first) < 200 else first[:197].rsplit(" ", 1)[0] + " …"
        teasers.append(
            f'<div class="teaser"><a href="{escape(a.path)}"><span class="kicker">'
            f"{escape(a.kicker)}</span><h2>{escape(a.title)}</h2></a>\n"
            f"<p>{escape(teaser)}</p> <time>{display_time(a.published, outlet)}</time></div>"
        )
    extras = "".join(f'<li><a href="{escape(h)}">{escape(t)}</a></li>' for h, t in extra_links)
    extra_block = (
        f'<aside class="service"><h2>Service</h2><ul>{extras}</ul></aside>\n' if extras else ""
    )
    meta = f'<meta property="og:title" content="{escape(heading)}">\n'
    return (
        _head(outlet, heading, path, meta)
        + _header(outlet, sections)
        + f'<main class="front">\n<h1 class="visually-hidden">{escape(heading)}</h1>\n'
        + "\n".join(teasers)
        + "\n"
        + extra_block
        + "</main>\n"
        + _footer(outlet, year)
    )


def plain_page(
    outlet: OutletSpec, path: str, heading: str, paragraphs: Sequence[str], year: int
) -> str:
    """Impressum, Datenschutz and the like."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        _head(outlet, heading, path)
        + _header(outlet, ())
        + f'<main class="page"><h1>{escape(heading)}</h1>\n{body}\n</main>\n'
        + _footer(outlet, year)
    )

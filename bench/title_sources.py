"""Which headline sources of a page state the fundus_de gold title, and which state ours.

A page names its headline in several places: og:title, twitter:title, <title>, the
JSON-LD headline and alternativeHeadline, <h1>s in the navigation (breadcrumbs), and the
headings a reader sees (`crawler.metadata._shown_headings`, whole or without the kicker).
For every page `crawler.metadata` titles wrongly, this prints the sources that state the
gold title, those that state ours, and the "twins": pages titled right where the same
sources (and maybe more) state gold and our title of the miss, and gold went our way. A
miss with a twin is not fixed by a rule over these sources without breaking the twin.

    .venv/bin/python bench/title_sources.py           # the misses and their twins
    .venv/bin/python bench/title_sources.py --all     # every page's sources
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml.html import HtmlElement, fromstring  # noqa: E402

from crawler import metadata as m  # noqa: E402
from crawler.extract import NotArticle, decode_html, extract_article  # noqa: E402

DEFAULT_SHARED = Path(os.environ.get("NEWSDEDUP_SHARED", ROOT.parent / "shared"))

# twitter:title copies og:title or <title> on nearly every page: left out of the groups
# compared between pages, so that a page without it still matches its twin.
_ECHO = {"twitter"}


def headline_sources(tree: HtmlElement, url: str) -> dict[str, set[str]]:
    """Normalized headline -> the sources that state it."""
    pm = m.read_page_meta(tree, url)
    meta = m._meta_tags(tree)
    article = next((o for o in m.jsonld_objects(tree) if m._types(o) & m.ARTICLE_TYPES), {})
    title_tag = tree.findtext(".//title")
    named = {
        "og": meta.get("og:title"),
        "twitter": meta.get("twitter:title"),
        "title": " ".join(title_tag.split()) if title_tag else None,
        "ld": m._text(article.get("headline")),
        "ld-alt": m._text(article.get("alternativeHeadline")),
    }
    texts = [t for t in named.values() if t]
    sites = [n for n in (pm.site_name, *m._host_names(url)) if n]
    out: dict[str, set[str]] = {}
    for source, text in named.items():
        if text:
            others = [t for t in texts if t != text]
            key = m._norm_title(m.strip_site_suffix(text, site_names=sites, others=others))
            out.setdefault(key, set()).add(source)
    for h in tree.iter("h1"):
        if {a.tag for a in h.iterancestors()} & {"nav", "li"}:
            out.setdefault(m._norm_title(m._heading_text(h)), set()).add("h1-nav")
    shown, without_kicker = m._shown_headings(tree)
    for key in shown:
        out.setdefault(key, set()).add("heading")
    for key in without_kicker | m._article_kicker_headings(tree):
        out.setdefault(key, set()).add("heading-no-kicker")
    return out


def _sig(sources: set[str]) -> frozenset[str]:
    return frozenset(sources - _ECHO)


def _twins(miss: dict, right: list[dict]) -> list[str]:
    """Pages titled right whose gold is stated by (at least) the sources that state our
    title of `miss`, and that have another headline stated by (at least) the sources that
    state its gold: the same choice, where gold went our way."""
    gold, ours = _sig(miss["gold"]), _sig(miss["ours"])
    if not gold or not ours:
        return []
    return [
        q["page"]
        for q in right
        if ours <= _sig(q["gold"]) and any(gold <= g and g != _sig(q["gold"]) for g in q["groups"])
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the ../shared checkout")
    ap.add_argument("--all", action="store_true", help="print every page, not only the misses")
    args = ap.parse_args(argv)
    root = args.shared / "data" / "extraction" / "fundus_de"
    if not (root / "index.jsonl").exists():
        raise SystemExit(f"{root / 'index.jsonl'} not found; pass --shared PATH")
    rows = {}
    for line in open(root / "index.jsonl", encoding="utf-8"):
        r = json.loads(line)
        rows[r["url"]] = r  # the scorer keeps the last row of a URL, so do we
    pages = []
    for url, r in rows.items():
        html = decode_html(gzip.open(root / r["html"]).read())
        try:
            ours = extract_article(html, url).title or ""
        except NotArticle:
            ours = ""
        sources = headline_sources(fromstring(html), url)
        gold, mine = m._norm_title(r["title"]), m._norm_title(ours)
        pages.append(
            {
                "page": r["html"],
                "exact": " ".join(ours.split()) == " ".join(r["title"].split()),
                "same": gold == mine,  # equal once invisible characters and punctuation go
                "gold": sources.get(gold, set()),
                "ours": sources.get(mine, set()),
                "groups": [_sig(s) for s in sources.values()],
                "gold_title": r["title"],
                "our_title": ours,
            }
        )
    right = [p for p in pages if p["exact"]]
    for p in pages:
        if p["exact"] and not args.all:
            continue
        mark = "ok  " if p["exact"] else "MISS"
        print(f"{mark} {p['page']}")
        print(f"     gold {sorted(p['gold']) or '(no source)'}: {p['gold_title']!r}")
        if not p["exact"]:
            print(f"     ours {sorted(p['ours']) or '(no source)'}: {p['our_title']!r}")
            if p["same"]:
                print("     the same words: they differ only in invisible characters, punctuation or case")
                continue
            print(f"     twins (gold on our side): {_twins(p, right) or 'none'}")
    print(f"title exact: {len(right)} of {len(pages)} ({len(right) / len(pages):.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

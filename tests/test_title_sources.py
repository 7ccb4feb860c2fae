"""bench/title_sources.py: which headline sources state a title."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

from lxml.html import fromstring

from tests.test_extract import DISPLAYED, RECORD, SOCIAL, news_page

ROOT = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location("title_sources", ROOT / "bench" / "title_sources.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_headline_sources_groups_the_sources_that_agree() -> None:
    ld = {"@type": "NewsArticle", "headline": RECORD, "alternativeHeadline": DISPLAYED}
    html = (
        news_page(jsonld=ld, title=f"{SOCIAL} | Tagblatt")
        .replace('content="Pendler werden entlastet"', f'content="{SOCIAL}"')
        .replace("<h1>Pendler werden entlastet</h1>", f"<h1>{DISPLAYED}</h1>")
        .replace("<nav>", f"<nav><ul><li><h1>{SOCIAL}</h1></li></ul>")
    )
    sources = _module().headline_sources(fromstring(html), "https://www.tagblatt.example/a.html")
    assert sources == {
        "brand in lichterfelde starke rauchentwicklung": {"ld"},
        "pendler jubeln das ändert sich": {"og", "title", "h1-nav"},
        "feuer in lichterfelde warnung vor rauchgasen": {"ld-alt", "heading"},
    }


def test_title_sources_over_fundus_de(shared: Path, capsys) -> None:
    assert _module().main(["--shared", str(shared)]) == 0
    out = capsys.readouterr().out
    right, total = map(int, re.search(r"title exact: (\d+) of (\d+)", out).groups())
    with open(shared / "data" / "extraction" / "fundus_de" / "index.jsonl") as f:
        assert total == len({json.loads(line)["url"] for line in f})
    assert out.count("MISS ") == total - right

"""The outlet list: the shipped file is valid, and every mistake is reported by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.seeds import (
    COUNTRIES,
    Outlet,
    Problem,
    SeedsError,
    check_outlets,
    load_outlets,
    resolve_seeds_path,
)
from crawler.store import Store
from newsdedup.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "outlets.toml"

GOOD = """\
# two outlets
[[outlet]]
id = "lto"
name = "Legal Tribune Online"
homepage = "https://www.lto.de/"
country = "DE"
language = "de"
feeds = ["https://www.lto.de/rss/feed.xml"]
news_sitemaps = ["https://www.lto.de/googlenews-sitemap.xml"]
sitemaps = ["https://www.lto.de/sitemap.xml"]

[[outlet]]
id = "demo-at"
name = "Demo Österreich"
homepage = "http://127.0.0.1:8001/"
country = "AT"
language = "de"
deny = ['/video/', '^https?://[^/]+/abo/']
allow = ['\\.html$']
"""


def _write(tmp_path: Path, text: str, name: str = "outlets.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the shipped list -------------------------------------------------------------------


def test_shipped_outlets_are_valid() -> None:
    assert check_outlets(SEEDS) == []
    outlets = load_outlets(SEEDS)
    assert len(outlets) >= 40
    assert {o.country for o in outlets} == set(COUNTRIES)
    assert all(o.language == "de" for o in outlets)
    assert len({o.id for o in outlets}) == len(outlets)
    # Every outlet can be crawled: something to read besides the homepage.
    assert all(o.feeds or o.news_sitemaps or o.sitemaps for o in outlets)
    assert sum(1 for o in outlets if o.news_sitemaps) >= 30


@pytest.mark.shared
def test_shipped_urls_are_facts_from_the_publisher_list(shared: Path) -> None:
    """Every feed/sitemap URL comes from the publisher list; none is a date template."""
    data = json.loads((shared / "data/outlets/dach_publisher_sources.json").read_text("utf-8"))
    known = {s["url"] for p in data["publishers"] for s in p["sources"]}
    names = {p["name"] for p in data["publishers"]}
    for outlet in load_outlets(SEEDS):
        for kind, url in outlet.sources():
            assert url in known, f"{outlet.id}: {kind} {url} is not in the publisher list"
            assert "{" not in url
        assert outlet.name in names or outlet.id in {"n-tv", "freiepresse", "20min"}


def test_shipped_readme_explains_every_field() -> None:
    readme = (ROOT / "seeds" / "README.md").read_text("utf-8")
    for field in (
        "id",
        "name",
        "homepage",
        "country",
        "language",
        "feeds",
        "news_sitemaps",
        "sitemaps",
        "allow",
        "deny",
    ):
        assert f"| `{field}` |" in readme, field


# -- loading ----------------------------------------------------------------------------


def test_load_good_file(tmp_path: Path) -> None:
    lto, demo = load_outlets(_write(tmp_path, GOOD))
    assert lto == Outlet(
        id="lto",
        name="Legal Tribune Online",
        country="DE",
        language="de",
        homepage="https://www.lto.de/",
        feeds=["https://www.lto.de/rss/feed.xml"],
        news_sitemaps=["https://www.lto.de/googlenews-sitemap.xml"],
        sitemaps=["https://www.lto.de/sitemap.xml"],
    )
    assert list(lto.sources()) == [
        ("feed", "https://www.lto.de/rss/feed.xml"),
        ("news_sitemap", "https://www.lto.de/googlenews-sitemap.xml"),
        ("sitemap", "https://www.lto.de/sitemap.xml"),
    ]
    assert demo.feeds == [] and demo.homepage == "http://127.0.0.1:8001/"


def test_a_byte_order_mark_is_no_error(tmp_path: Path) -> None:
    # (Windows editors save UTF-8 with a BOM; TOML itself does not allow one)
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_outlets(path) == load_outlets(_write(tmp_path, GOOD))


def test_allow_and_deny(tmp_path: Path) -> None:
    _, demo = load_outlets(_write(tmp_path, GOOD))
    assert demo.accepts("http://127.0.0.1:8001/politik/a-b-c.html")
    assert not demo.accepts("http://127.0.0.1:8001/politik/a-b-c")  # allow: must end .html
    assert not demo.accepts("http://127.0.0.1:8001/video/a-b-c.html")
    assert not demo.accepts("http://127.0.0.1:8001/abo/a-b-c.html")
    lto = load_outlets(_write(tmp_path, GOOD))[0]
    assert lto.accepts("https://www.lto.de/anything")


def test_rows_go_into_the_store(tmp_path: Path) -> None:
    outlets = load_outlets(_write(tmp_path, GOOD))
    with Store(tmp_path / "news.db") as store:
        store.upsert_outlets(o.to_row() for o in outlets)
        store.upsert_outlets(o.to_row() for o in outlets)  # idempotent
        rows = list(store.db["outlets"].rows_where(order_by="id"))
    assert [r["id"] for r in rows] == ["demo-at", "lto"]
    assert json.loads(rows[1]["feeds"]) == ["https://www.lto.de/rss/feed.xml"]
    assert json.loads(rows[0]["deny"]) == ["/video/", "^https?://[^/]+/abo/"]


# -- problems ---------------------------------------------------------------------------


def _problems(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in check_outlets(_write(tmp_path, text))]


def test_bad_url_names_file_line_outlet_and_field(tmp_path: Path) -> None:
    text = GOOD.replace(
        'feeds = ["https://www.lto.de/rss/feed.xml"]',
        'feeds = [\n    "https://www.lto.de/rss/feed.xml",\n    "htp://x",\n]',
    )
    path = _write(tmp_path, text)
    [problem] = check_outlets(path)
    assert problem == Problem(
        str(path),
        10,
        "lto",
        "feeds[1]",
        'feeds[1] "htp://x" is not an http(s) URL — fix the scheme',
    )
    assert (
        str(problem)
        == f'{path}:10: outlet "lto": feeds[1] "htp://x" is not an http(s) URL — fix the scheme'
    )
    with pytest.raises(SeedsError) as info:
        load_outlets(path)
    assert str(info.value) == str(problem)
    assert info.value.problems == [problem]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # missing required field: reported at the outlet's header
        (
            'name = "Legal Tribune Online"\n',
            "",
            ':2: outlet "lto": name is missing — add name = "..." to this outlet',
        ),
        # unknown field with a typo hint
        ("feeds = [", "feed = [", ':8: outlet "lto": unknown field "feed" — did you mean "feeds"?'),
        (
            'homepage = "https://www.lto.de/"',
            'hompage = "https://www.lto.de/"',
            ':5: outlet "lto": unknown field "hompage" — did you mean "homepage"?',
        ),
        # country and language
        (
            'country = "DE"',
            'country = "Germany"',
            ':6: outlet "lto": country "Germany" must be one of DE, AT, CH',
        ),
        (
            'country = "DE"',
            'country = "de"',
            ':6: outlet "lto": country "de" must be one of DE, AT, CH — write "DE"',
        ),
        (
            'language = "de"\nfeeds',
            'language = "Deutsch"\nfeeds',
            ':7: outlet "lto": language "Deutsch" is not an ISO 639-1 code',
        ),
        # bad ids
        (
            'id = "lto"',
            'id = "Legal Tribune"',
            ':3: outlet "Legal Tribune": id "Legal Tribune" is not a slug — '
            'use lowercase letters, digits and hyphens, e.g. "legal-tribune"',
        ),
        (
            'id = "demo-at"',
            'id = "lto"',
            ':13: outlet "lto": id "lto" is already used at line 3 — ids must be unique',
        ),
        # URLs
        (
            '"https://www.lto.de/sitemap.xml"',
            '"www.lto.de/sitemap.xml"',
            ':10: outlet "lto": sitemaps[0] "www.lto.de/sitemap.xml" has no scheme — write it as https://www.lto.de/sitemap.xml',
        ),
        (
            '"https://www.lto.de/sitemap.xml"',
            '"https://www.lto.de/sitemap-{d.year}.xml"',
            ':10: outlet "lto": sitemaps[0] "https://www.lto.de/sitemap-{d.year}.xml" '
            "is a template",
        ),
        (
            '"https://www.lto.de/sitemap.xml"',
            '"https://www.lto.de/site map.xml"',
            ':10: outlet "lto": sitemaps[0] "https://www.lto.de/site map.xml" contains whitespace',
        ),
        (
            'homepage = "https://www.lto.de/"',
            'homepage = "ftp://www.lto.de/"',
            ':5: outlet "lto": homepage "ftp://www.lto.de/" is not an http(s) URL — fix the scheme',
        ),
        (
            'sitemaps = ["https://www.lto.de/sitemap.xml"]',
            'sitemaps = "https://www.lto.de/sitemap.xml"',
            ':10: outlet "lto": sitemaps must be a list — write sitemaps = ["https://www.lto.de/sitemap.xml"]',
        ),
        (
            'sitemaps = ["https://www.lto.de/sitemap.xml"]',
            'sitemaps = ["https://www.lto.de/sitemap.xml", "https://www.lto.de/sitemap.xml"]',
            ':10: outlet "lto": sitemaps[1] "https://www.lto.de/sitemap.xml" '
            "is listed twice in sitemaps — remove one",
        ),
        # regexes
        (
            "deny = ['/video/',",
            "deny = ['(video',",
            ":18: outlet \"demo-at\": deny[0] '(video' is not a valid regular expression "
            "(missing ), unterminated subpattern at position 0)",
        ),
        # nothing to crawl
        (
            'homepage = "http://127.0.0.1:8001/"\n',
            "",
            ':12: outlet "demo-at": has no feeds, news_sitemaps, sitemaps or homepage — '
            "add at least one",
        ),
        # layout
        (
            "# two outlets\n",
            "outlets = 2\n",
            ': unknown top-level key "outlets" — write [[outlet]]',
        ),
    ],
)
def test_each_mistake_is_reported_with_its_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    problems = _problems(tmp_path, GOOD.replace(old, new, 1))
    path = str(tmp_path / "outlets.toml")
    assert len(problems) == 1, problems
    assert problems[0].startswith(path + expected), problems[0]


def test_all_problems_are_reported_in_file_order(tmp_path: Path) -> None:
    text = GOOD.replace('country = "DE"', 'country = "Germany"').replace(
        "deny = ['/video/',", "deny = ['(video',"
    )
    text = text.replace('id = "demo-at"', 'id = "lto"').replace("feeds = [", "feed = [")
    problems = check_outlets(_write(tmp_path, text))
    assert [p.line for p in problems] == [6, 8, 13, 18]
    assert [p.field for p in problems] == ["country", "feed", "id", "deny[0]"]
    with pytest.raises(SeedsError) as info:
        load_outlets(tmp_path / "outlets.toml")
    assert len(str(info.value).splitlines()) == 4


def test_outlet_without_id_is_named_by_position(tmp_path: Path) -> None:
    [problem] = check_outlets(_write(tmp_path, GOOD.replace('id = "demo-at"\n', "")))
    assert problem.outlet == "#2"
    assert problem.line == 12  # its [[outlet]] header
    assert "id is missing" in problem.message


def test_toml_syntax_error(tmp_path: Path) -> None:
    text = GOOD.replace('name = "Legal Tribune Online"', 'name = "Legal Tribune Online')
    [problem] = check_outlets(_write(tmp_path, text))
    assert problem.line == 4
    assert problem.message.startswith("TOML syntax error:")
    assert "check quotes, commas and brackets" in problem.message


def test_single_bracket_table(tmp_path: Path) -> None:
    [problem] = check_outlets(_write(tmp_path, "[outlet]\nid = 'x'\n"))
    assert "write [[outlet]] (double brackets), not [outlet]" in problem.message


def test_empty_and_missing_files(tmp_path: Path) -> None:
    [problem] = check_outlets(_write(tmp_path, "# nothing yet\n"))
    assert "lists no outlets" in problem.message
    [problem] = check_outlets(tmp_path / "nope.toml")
    assert problem.message == "no such file — pass --seeds PATH or set NEWSDEDUP_SEEDS"
    (tmp_path / "latin1.toml").write_bytes('name = "Österreich"\n'.encode("latin-1"))
    [problem] = check_outlets(tmp_path / "latin1.toml")
    assert "save the file as UTF-8" in problem.message


def test_resolve_seeds_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSDEDUP_SEEDS", raising=False)
    monkeypatch.chdir(tmp_path)
    # No seeds/ here: falls back to the checkout's own list.
    assert resolve_seeds_path() == SEEDS
    monkeypatch.setenv("NEWSDEDUP_SEEDS", "other.toml")
    assert resolve_seeds_path() == Path("other.toml")
    assert resolve_seeds_path("mine.toml") == Path("mine.toml")


# -- the CLI ----------------------------------------------------------------------------


def test_cli_lists_outlets(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["outlets", "--seeds", str(_write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "name", "country", "feeds", "news", "sitemaps", "sitemaps"]
    assert lines[2].split() == ["lto", "Legal", "Tribune", "Online", "DE", "1", "1", "1"]
    assert lines[3].split() == ["demo-at", "Demo", "Österreich", "AT", "0", "0", "0"]
    assert "2 outlets (DE 1, AT 1)" in result.output


def test_cli_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["outlets", "--seeds", str(_write(tmp_path, GOOD)), "--format", "json"]
    )
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == ["lto", "demo-at"]
    assert rows[0]["feeds"] == ["https://www.lto.de/rss/feed.xml"]


def test_cli_check_ok_and_env(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    result = CliRunner().invoke(cli, ["outlets", "--check"], env={"NEWSDEDUP_SEEDS": str(path)})
    assert result.exit_code == 0
    assert result.output == f"{path}: 2 outlets, no problems\n"


def test_cli_check_reports_one_line_per_problem(tmp_path: Path) -> None:
    text = GOOD.replace('country = "DE"', 'country = "Germany"').replace("feeds = [", "feed = [")
    path = _write(tmp_path, text)
    result = CliRunner().invoke(cli, ["outlets", "--seeds", str(path), "--check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f'{path}:6: outlet "lto": country "Germany" must be one of DE, AT, CH',
        f'{path}:8: outlet "lto": unknown field "feed" — did you mean "feeds"?',
    ]
    assert "2 problems" in result.stderr
    assert "Traceback" not in result.output


def test_cli_check_json(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('country = "DE"', 'country = "XX"'))
    result = CliRunner().invoke(
        cli, ["outlets", "--seeds", str(path), "--check", "--format", "json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problems"][0]["line"] == 6 and report["problems"][0]["field"] == "country"


def test_cli_listing_a_broken_file_fails_cleanly(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('name = "Legal Tribune Online"', 'name = "x'))
    result = CliRunner().invoke(cli, ["outlets", "--seeds", str(path)])
    assert result.exit_code == 1
    assert f"{path}:4: TOML syntax error" in result.output
    assert "Traceback" not in result.output


def test_cli_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["outlets", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "newsdedup outlets --check" in result.output
    assert "NEWSDEDUP_SEEDS" in result.output

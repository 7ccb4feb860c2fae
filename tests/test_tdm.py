"""Text-and-data-mining opt-outs: the pure readers, and real crawls of local outlets that
say no in each way (robots.txt, tdmrep.json, the tdm-reservation header)."""

from __future__ import annotations

import json

import pytest

from crawler.tdm import TdmState, meta_reservation, parse_tdmrep, robots_shut_out
from tests.crawling import FAST, newsdedup, query
from tests.mockserver import HostileOutlet

AGENTS = ["GPTBot", "CCBot", "Google-Extended"]


def test_robots_rules_for_named_ai_crawlers():
    robots = "User-agent: *\nDisallow: /intern/\n\nUser-agent: GPTBot\nUser-agent: CCBot\nDisallow: /\n"
    assert robots_shut_out(robots, "https://x.example/", AGENTS) == (["GPTBot", "CCBot"], False)
    assert robots_shut_out("User-agent: *\nDisallow: /\n", "https://x.example/", AGENTS) == (AGENTS, True)
    assert robots_shut_out("User-agent: *\nDisallow:\n", "https://x.example/", AGENTS) == ([], False)
    # Only part of the site closed to them: the homepage is still open, no opt-out.
    part = "User-agent: GPTBot\nDisallow: /archiv/\n"
    assert robots_shut_out(part, "https://x.example/", AGENTS) == ([], False)


def test_tdmrep_file():
    rules = parse_tdmrep(b'[{"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://p"}]')
    assert rules == [{"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://p"}]
    assert parse_tdmrep(b'{"location": "/", "tdm-reservation": 0}') == [
        {"location": "/", "tdm-reservation": 0}]
    for bad, why in ((b"<html>", "not JSON"), (b'"yes"', "not an array of rules")):
        with pytest.raises(ValueError, match=why):
            parse_tdmrep(bad)


def test_meta_tag_and_verdict():
    assert meta_reservation(b'<head><meta name="tdm-reservation" content="1"></head>') == "1"
    assert meta_reservation(b"<meta content='0' name='TDM-Reservation'>") == "0"
    assert meta_reservation(b'<meta name="description" content="1">') is None
    state = TdmState("x", tdmrep=[{"location": "/", "tdm-reservation": 0}])
    assert state.row()["opted_out"] == 0
    state.header_reservation, state.header_url = "1", "https://x.example/a.html"
    row = state.row()
    assert row["opted_out"] == 1 and row["reasons"] == ["tdm-reservation: 1 on https://x.example/a.html"]


@pytest.mark.slow
def test_a_crawl_records_each_outlets_tdm_signals(tmp_path):
    db, seeds = tmp_path / "news.db", tmp_path / "outlets.toml"
    header = HostileOutlet(many=2, tdm_header="1")
    broken = HostileOutlet(many=2, tdmrep=b"<html>Seite nicht gefunden</html>")
    ccbot = HostileOutlet(many=2, robots="User-agent: *\nDisallow: /intern/\n\n"
                                         "User-agent: CCBot\nDisallow: /\n")
    fileout = HostileOutlet(many=2, tdmrep=json.dumps(
        [{"location": "/many/*", "tdm-reservation": 1, "tdm-policy": "https://p.example/tdm"}]).encode())
    sites = {"kopfzeile": header, "kaputtrep": broken, "ccbotfrei": ccbot, "vorbehalt": fileout}
    with header, broken, ccbot, fileout:
        seeds.write_text("".join(s.seeds_toml(o, feeds=["/many-feed.xml"]) for o, s in sites.items()),
                         encoding="utf-8")
        result = newsdedup("crawl", "--db", str(db), "--seeds", str(seeds), "--no-warc", *FAST,
                           "-s", "NEWSDEDUP_EXTRACT_WORKERS=1")
        assert result.returncode == 0, result.stderr[-3000:]
        for site in sites.values():  # the tdmrep.json probe, once per outlet and run
            assert site.requests["/.well-known/tdmrep.json"] == 1
        # Next run: the articles are known and not fetched again, so no header is seen;
        # the reservation seen last time stands.
        fetched = sum(n for p, n in header.requests.items() if p.startswith("/many/"))
        again = newsdedup("crawl", "--db", str(db), "--seeds", str(seeds), "--no-warc", *FAST,
                          "-s", "NEWSDEDUP_EXTRACT_WORKERS=1")
        assert again.returncode == 0, again.stderr[-3000:]
        assert sum(n for p, n in header.requests.items() if p.startswith("/many/")) == fetched
    assert query(db, "SELECT opted_out, header_reservation FROM outlet_tdm "
                     "WHERE outlet = 'kopfzeile'") == [(1, "1")]
    assert not (tmp_path / "news-warc").exists()  # --no-warc
    assert "TDM opt-out: ccbotfrei (robots.txt disallows CCBot)" in result.stdout
    rows = {r[0]: r[1:] for r in query(db, "SELECT outlet, opted_out, reasons, robots_status, "
                                           "tdmrep_status, tdmrep, header_reservation FROM outlet_tdm")}
    assert rows["kopfzeile"][0] == 1 and rows["kopfzeile"][5] == "1"
    (reason,) = json.loads(rows["kopfzeile"][1])
    assert reason in [f"tdm-reservation: 1 on {header.url(f'/many/{n}.html')}" for n in range(2)]
    assert rows["kaputtrep"][:2] == (0, "[]")
    assert rows["kaputtrep"][3:5] == (200, '{"error": "not JSON (JSONDecodeError)"}')
    assert rows["ccbotfrei"][:2] == (1, '["robots.txt disallows CCBot"]')
    assert rows["vorbehalt"][:2] == (1, '["tdmrep.json reserves TDM rights for /many/*"]')
    # Our own crawler is not CCBot: the articles are stored all the same.
    assert query(db, "SELECT outlet, count(*) FROM articles GROUP BY outlet ORDER BY outlet") == [
        ("ccbotfrei", 2), ("kaputtrep", 2), ("kopfzeile", 2), ("vorbehalt", 2)]

    export = newsdedup("export", "--db", str(db), "--dedup", "none", str(tmp_path / "c.jsonl"))
    assert export.returncode == 0, export.stderr
    assert "6  outlet opted out of text and data mining" in export.stdout
    with open(tmp_path / "c.jsonl", encoding="utf-8") as f:
        assert {json.loads(line)["outlet"] for line in f} == {"kaputtrep"}

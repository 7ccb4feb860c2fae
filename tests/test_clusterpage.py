"""The cluster page's content from plain rows: order, delays, timeline, containers."""

from __future__ import annotations

import json

from newsdedup.datasette.clusterpage import build_page, format_delay, parse_time, timeline_svg

TEXT = "Die Regierung hat am Mittwoch ein neues Gesetz zur Förderung der Bahn beschlossen."


def member(article_id, outlet, published, rep=False, text=TEXT, agencies=("dpa",)):
    return {
        "article_id": article_id, "outlet": outlet, "title": f"T {article_id}", "url": f"https://x/{article_id}",
        "published": published, "agencies": json.dumps(list(agencies)), "text": text, "share": 1.0,
        "similarity": 1.0, "is_representative": int(rep), "exact_duplicate_of": None,
    }


def test_members_in_publication_order_across_time_zones_with_delays():
    rows = [
        member("c", "drei", "2025-03-14T12:30:00+01:00"),  # 11:30 UTC
        member("a", "eins", "2025-03-14T11:00:00+00:00", rep=True),
        member("u", "ohne", None),
        member("b", "zwei", "2025-03-14T13:05:00+02:00", agencies=("AFP", "dpa")),  # 11:05 UTC
    ]
    page = build_page({"cluster_id": "a", "size": 4, "exact_duplicates": 0}, rows, [])
    assert [m.article_id for m in page.members] == ["a", "b", "c", "u"]
    assert [m.delay_minutes for m in page.members] == [0, 5, 30, None]
    assert [format_delay(m.delay_minutes) for m in page.members] == ["first", "+5 min", "+30 min", "—"]
    assert page.undated == 1 and page.span == "30 min" and page.outlets == 4
    assert page.agencies == ["dpa", "AFP"]
    svg = page.timeline_svg
    assert svg.startswith("<svg") and svg.count("<circle") == 3 and "tl-representative" in svg
    assert "ohne" not in svg and "+30 min" in svg


def test_timeline_escapes_outlet_names_and_is_empty_without_dates():
    page = build_page(
        {"cluster_id": "a", "size": 1, "exact_duplicates": 0},
        [member("a", "<b>&co", "2025-03-14T11:00:00Z", rep=True)], [],
    )
    assert "&lt;b&gt;&amp;co" in page.timeline_svg and "<b>" not in page.timeline_svg
    assert timeline_svg([]) == ""
    assert parse_time("nonsense") is None and parse_time("2025-03-14").hour == 0


def test_containers_show_what_they_quote():
    ticker = "11.05 Uhr: Kurz gemeldet aus Berlin.\n\n" + TEXT + "\n\nUnd noch etwas ganz anderes hier."
    page = build_page(
        {"cluster_id": "a", "size": 1, "exact_duplicates": 0},
        [member("a", "eins", "2025-03-14T11:00:00Z", rep=True)],
        [{"article_id": "t", "outlet": "vier", "title": "Ticker", "url": "https://x/t",
          "published": "2025-03-14T12:00:00Z", "text": ticker, "share": 1.0, "copies_quoted": 1}],
    )
    (c,) = page.containers
    assert c.quoted == [TEXT]


def test_delays_of_hours_and_days():
    assert format_delay(125) == "+2 h 05 min"
    assert format_delay(3 * 1440 + 240) == "+3 d 4 h"

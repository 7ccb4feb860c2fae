"""Extraction of one page: decoding, body, cleanup, metadata, not-article verdicts."""

from __future__ import annotations

import json

import pytest

from crawler.cleanup import clean_text
from crawler.extract import NotArticle, choose_body, decode_html, extract_article
from crawler.metadata import parse_date, strip_site_suffix
from crawler.store import ARTICLE_COLUMNS

PARAS = [
    "Berlin (dpa) - Die Bundesregierung hat am Montag ein umfangreiches Paket zur Entlastung von "
    "Pendlern beschlossen, das vor allem Menschen auf dem Land zugutekommen soll.",
    "Nach Angaben des Verkehrsministeriums sollen die Mittel bereits im kommenden Jahr fließen. "
    "Die Länder hatten seit Monaten auf eine Einigung gedrängt und zusätzliche Hilfen verlangt.",
    "Kritik kam von der Opposition, die das Paket als unzureichend bezeichnete. Verbände begrüßten "
    "dagegen, dass erstmals auch der Ausbau von Radwegen ausdrücklich gefördert werden soll.",
    "Der Bundestag soll sich noch vor der Sommerpause mit dem Gesetz befassen, der Bundesrat im Herbst. "
    "Bis dahin wollen die Fraktionen letzte Details klären, hieß es aus Koalitionskreisen.",
]


def news_page(
    *,
    jsonld: dict | None = None,
    extra_body: str = "",
    title: str = "Pendler werden entlastet | Tagblatt",
) -> str:
    ld = ""
    if jsonld is not None:
        ld = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
    paras = "".join(f"<p>{p}</p>" for p in PARAS)
    return f"""<!DOCTYPE html><html lang="de-DE"><head><meta charset="utf-8">
<title>{title}</title>
<meta property="og:title" content="Pendler werden entlastet">
<meta property="og:type" content="article">
<meta property="og:site_name" content="Tagblatt">
<meta property="og:image" content="/img/lead.jpg">
<meta name="description" content="Die Regierung entlastet Pendler.">
<meta property="article:published_time" content="2024-04-22T15:26:46+02:00">
<link rel="canonical" href="https://www.tagblatt.example/politik/pendler-100.html">
{ld}</head><body>
<nav><a href="/">Startseite</a> <a href="/politik">Politik</a></nav>
<article><h1>Pendler werden entlastet</h1>
<figure><img src="a.jpg"><figcaption>Der Minister in Berlin. Foto: Kay Nietfeld/dpa</figcaption></figure>
{paras}{extra_body}
<p>Zur Startseite</p>
</article><footer>Impressum Datenschutz</footer></body></html>"""


def test_decode_html_prefers_valid_utf8_over_wrong_declaration() -> None:
    body = '<html><head><meta charset="iso-8859-1"></head><body>Größe</body></html>'.encode()
    assert "Größe" in decode_html(body)


def test_decode_html_latin1_bom_and_garbage() -> None:
    assert "Größe" in decode_html(
        "<p>Größe</p>".encode("cp1252"), "text/html; charset=windows-1252"
    )
    assert "Größe" in decode_html("<meta charset='iso-8859-1'><p>Größe</p>".encode("latin-1"))
    assert decode_html(b"\xef\xbb\xbf<p>x</p>") == "<p>x</p>"
    assert isinstance(decode_html(bytes(range(256)) * 10), str)
    assert decode_html(b"") == ""


def test_extract_news_page_body_and_metadata() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Tagblatt"},
            {
                "@type": "NewsArticle",
                "headline": "Pendler werden entlastet",
                "datePublished": "2024-04-22T15:26:46+02:00",
                "dateModified": "2024-04-22T17:00:00+02:00",
                "author": [
                    {"@type": "Person", "name": "Anna Muster"},
                    {"@type": "Organization", "name": "dpa"},
                ],
                "keywords": "Verkehr, Pendler",
                "articleSection": "Politik",
                "isAccessibleForFree": "False",
            },
        ],
    }
    ex = extract_article(
        news_page(jsonld=ld), "https://www.tagblatt.example/politik/pendler-100.html"
    )
    assert ex.title == "Pendler werden entlastet"
    assert ex.published == "2024-04-22T15:26:46+02:00"
    assert ex.modified == "2024-04-22T17:00:00+02:00"
    assert ex.authors == ["Anna Muster", "dpa"]
    assert ex.language == "de"
    assert ex.site_name == "Tagblatt"
    assert ex.keywords == ["Politik", "Verkehr", "Pendler"]
    assert ex.image == "https://www.tagblatt.example/img/lead.jpg"
    assert ex.paywall is True
    assert ex.agencies == ["dpa"]
    assert ex.canonical_url == "https://www.tagblatt.example/politik/pendler-100.html"
    for p in PARAS:
        assert p in ex.text
    assert "Foto:" not in ex.text
    assert "Zur Startseite" not in ex.text
    assert "\n\n" in ex.text  # paragraphs separated by blank lines


LEAD = "Die Regierung entlastet Pendler auf dem Land mit einem umfangreichen Paket."


def test_shown_standfirst_opens_the_text() -> None:
    """The lead the page shows (and its description names) is the first paragraph."""
    html = news_page().replace(
        '<meta name="description" content="Die Regierung entlastet Pendler.">',
        f'<meta name="description" content="{LEAD}">',
    )
    h1 = "<h1>Pendler werden entlastet</h1>"
    shown = html.replace(h1, f'{h1}<div class="intro"><strong>{LEAD}</strong></div>')
    url = "https://www.tagblatt.example/politik/pendler-100.html"
    assert extract_article(shown, url).text.split("\n\n")[:2] == [LEAD, PARAS[0]]
    # A description the page does not show is a search snippet, not text.
    assert LEAD not in extract_article(html, url).text
    # English-language pages keep the dek apart from the body.
    english = shown.replace('lang="de-DE"', 'lang="en"')
    assert LEAD not in extract_article(english, url).text


def test_article_text_in_plain_divs_is_found_by_the_full_cascade() -> None:
    # trafilatura's fast mode keeps nothing of a body set in <div>s without <p>; the
    # full cascade (readability, jusText) that then runs finds all of it.
    divs = "".join(f"<div>{p}</div>" for p in PARAS)
    html = news_page().replace("".join(f"<p>{p}</p>" for p in PARAS), divs)
    html = html.replace("<article>", "<div>").replace("</article>", "</div>")
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    for p in PARAS:
        assert p in ex.text


def test_to_row_matches_store_columns() -> None:
    ex = extract_article(news_page(), "https://www.tagblatt.example/politik/pendler-100.html")
    row = ex.to_row("https://www.tagblatt.example/politik/pendler-100.html", "tagblatt.example")
    assert set(row) <= set(ARTICLE_COLUMNS)
    assert row["outlet"] == "tagblatt.example"
    assert row["agencies"] == ["dpa"]


def test_photo_credit_alone_is_not_an_agency_credit() -> None:
    html = news_page().replace("Berlin (dpa) - ", "Berlin - ")
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.agencies == []


def test_title_suffix_removed_without_og() -> None:
    html = news_page().replace('<meta property="og:title" content="Pendler werden entlastet">', "")
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == "Pendler werden entlastet"


def _headline_page(*, og: str, ld: str, h1: str, nav_h1: str = "") -> str:
    """A news page whose og:title, JSON-LD headline and visible <h1> may differ."""
    ld_json = json.dumps({"@type": "NewsArticle", "headline": ld})
    nav = f"<nav><ul><li><h1>{nav_h1}</h1></li></ul></nav>" if nav_h1 else ""
    return news_page(jsonld=json.loads(ld_json)).replace(
        '<meta property="og:title" content="Pendler werden entlastet">',
        f'<meta property="og:title" content="{og}">',
    ).replace("<h1>Pendler werden entlastet</h1>", f"{nav}<h1>{h1}</h1>")


SOCIAL = "Pendler jubeln: Das ändert sich"  # an og:title written for sharing
SHOWN = "Regierung entlastet Pendler"
SEO = "Entlastung Pendler 2024 Pauschale"  # a JSON-LD headline written for search engines


@pytest.mark.parametrize(
    ("og", "ld", "h1", "nav_h1", "want"),
    [
        # The page shows the JSON-LD headline: it wins over a social-media og:title.
        (SOCIAL, SHOWN, SHOWN, "", SHOWN),
        # The page shows og:title: it wins over an SEO headline in JSON-LD.
        (SOCIAL, SEO, SOCIAL, "", SOCIAL),
        # A breadcrumb <h1> in the navigation is not the page's heading.
        (SOCIAL, SHOWN, SHOWN, SOCIAL, SHOWN),
    ],
)
def test_title_is_the_headline_the_page_shows(
    og: str, ld: str, h1: str, nav_h1: str, want: str
) -> None:
    html = _headline_page(og=og, ld=ld, h1=h1, nav_h1=nav_h1)
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == want


KICKED = "<span>Mobilität</span> <span>Regierung entlastet Pendler</span>"  # kicker + headline


@pytest.mark.parametrize(
    ("og", "h1", "want"),
    [
        # og:title carries another kicker than the page shows: the headline both share.
        ("Nach der Einigung: Regierung entlastet Pendler", KICKED, SHOWN),
        # og:title is the kicker and headline the page shows: kept whole.
        ("Mobilität: Regierung entlastet Pendler", KICKED, "Mobilität: Regierung entlastet Pendler"),
        # og:title is the shown headline without the page's kicker.
        (SHOWN, KICKED, SHOWN),
        # No kicker element on the page: a kicker in og:title stays.
        ("Nach der Einigung: Regierung entlastet Pendler", "Regierung entlastet Pendler: So geht es",
         "Nach der Einigung: Regierung entlastet Pendler"),
    ],
)
def test_title_kicker_the_page_does_not_show_is_dropped(og: str, h1: str, want: str) -> None:
    html = _headline_page(og=og, ld=SEO, h1=h1)
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == want


def _h2_headline_page(*, og: str, ld: str, h2: str) -> str:
    """A page whose headline block is an <h2> in <article> (no <h1>); <title> says og:title."""
    return _headline_page(og=og, ld=ld, h1="").replace(
        "<h1></h1>", f"<h2>{h2}</h2>"
    ).replace("<title>Pendler werden entlastet | Tagblatt</title>", f"<title>{og} | Tagblatt</title>")


@pytest.mark.parametrize(
    ("ld", "h2", "want"),
    [
        # The <h2> shows the JSON-LD headline under a kicker: it beats og:title and <title>.
        (SHOWN, KICKED, SHOWN),
        # The <h2> shows kicker and headline as the JSON-LD headline states them: kept whole.
        ("Mobilität: Regierung entlastet Pendler", KICKED, "Mobilität: Regierung entlastet Pendler"),
        # A plain <h2> (a subheading, a teaser) is no headline block: og:title stays.
        (SHOWN, SHOWN, SOCIAL),
    ],
)
def test_title_shown_in_article_h2_with_kicker(ld: str, h2: str, want: str) -> None:
    html = _h2_headline_page(og=SOCIAL, ld=ld, h2=h2)
    assert "<h1>" not in html
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == want


@pytest.mark.parametrize(
    "h1",
    [
        "Regierung ent&shy;lastet Pend&#8203;ler",  # soft hyphen, zero-width space
        "Regierung <!-- teaser --> entlastet Pendler",
    ],
)
def test_title_shown_heading_compared_by_its_visible_text(h1: str) -> None:
    # og:title and <title> agree on a social headline; the page shows the JSON-LD one.
    html = _headline_page(og=SOCIAL, ld=SHOWN, h1=h1).replace(
        "<title>Pendler werden entlastet | Tagblatt</title>", f"<title>{SOCIAL} | Tagblatt</title>"
    )
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == SHOWN


def test_title_kicker_found_past_style_in_heading() -> None:
    # CSS-in-JS sites put a <style> ahead of the kicker: it is neither kicker nor text.
    h1 = "<style>.k{font-weight:700}</style><span>Mobilität</span> <span>Regierung entlastet Pendler</span>"
    html = _headline_page(og="Nach der Einigung: Regierung entlastet Pendler", ld=SEO, h1=h1)
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == SHOWN


REWRITTEN = "Kabinett beschließt Milliarden für Berufstätige auf dem Land"  # shares no word


@pytest.mark.parametrize(
    ("h1", "in_header", "want"),
    [
        # The article header's <h1> agrees with no candidate: a rewritten headline, shown.
        (REWRITTEN, True, REWRITTEN),
        # It shares most words with a candidate: a variant of it, the candidate stays.
        ("Pendler jubeln: Das alles ändert sich jetzt", True, SOCIAL),
        # An <h1> outside an article <header> (a section or teaser heading) decides nothing.
        (REWRITTEN, False, SOCIAL),
    ],
)
def test_title_rewritten_headline_in_article_header(h1: str, in_header: bool, want: str) -> None:
    html = _headline_page(og=SOCIAL, ld=SEO, h1=h1).replace(
        "<title>Pendler werden entlastet | Tagblatt</title>", f"<title>{SOCIAL} | Tagblatt</title>"
    )
    if in_header:
        html = html.replace(f"<h1>{h1}</h1>", f"<header><h1>{h1}</h1></header>")
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == want


RECORD = "Brand in Lichterfelde: Starke Rauchentwicklung"  # JSON-LD headline
DISPLAYED = "Feuer in Lichterfelde: Warnung vor Rauchgasen"  # JSON-LD alternativeHeadline


@pytest.mark.parametrize(
    ("h1", "want"),
    [
        # The page shows the alternativeHeadline and no candidate: the JSON-LD headline.
        (DISPLAYED, RECORD),
        # It shows og:title: step 1, what the page shows wins.
        (SOCIAL, SOCIAL),
        # It shows neither: og:title and <title> agree, as on any page that shows none.
        ("Kabinett beschließt Milliarden für Berufstätige", SOCIAL),
    ],
)
def test_title_headline_of_record_where_page_shows_alternative(h1: str, want: str) -> None:
    ld = {"@type": "NewsArticle", "headline": RECORD, "alternativeHeadline": DISPLAYED}
    html = (
        news_page(jsonld=ld, title=f"{SOCIAL} | Tagblatt")
        .replace(
            '<meta property="og:title" content="Pendler werden entlastet">',
            f'<meta property="og:title" content="{SOCIAL}">',
        )
        .replace("<h1>Pendler werden entlastet</h1>", f"<h1>{h1}</h1>")
    )
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == want


TICKER_HEAD = "Pendler und Pauschale: Entwicklungen im Überblick"  # a ticker's own headline
TICKER_OG = "Pendler und Pauschale: aktuelle Entwicklungen im Überblick"
TICKER_ENTRY = "Kabinett beschließt Milliarden für Berufstätige auf dem Land"  # the latest entry


@pytest.mark.parametrize(
    ("title_tag", "h1", "want"),
    [
        # The page shows none of them (its <h1> is the latest entry, outside the article
        # header): <title> states the JSON-LD headline, which beats og:title standing alone.
        (TICKER_HEAD, TICKER_ENTRY, TICKER_HEAD),
        # <title> states og:title: og:title, as for any page that shows no candidate.
        (TICKER_OG, TICKER_ENTRY, TICKER_OG),
        # The page shows og:title: what it shows wins, whatever <title> says.
        (TICKER_HEAD, TICKER_OG, TICKER_OG),
    ],
)
def test_title_unshown_headline_agreed_by_title_tag(title_tag: str, h1: str, want: str) -> None:
    html = _headline_page(og=TICKER_OG, ld=TICKER_HEAD, h1=h1).replace(
        "<title>Pendler werden entlastet | Tagblatt</title>", f"<title>{title_tag} | Tagblatt</title>"
    )
    ex = extract_article(html, "https://www.tagblatt.example/politik/pendler-100.html")
    assert ex.title == want


@pytest.mark.parametrize(
    ("title_tag", "breadcrumb", "want"),
    [
        # <title> and the breadcrumb <h1> both go on where og:title stops: it was cut.
        ('Marathon: Sieger und "royaler Besuch"', True, 'Marathon: Sieger und "royaler Besuch"'),
        # Only <title> goes on (with the paper's name and a date): one source is not enough.
        ("Marathon: Sieger und, Tagblatt am Abend, 26.04.2024", False, "Marathon: Sieger und"),
    ],
)
def test_title_cut_short_in_meta_is_taken_whole(title_tag: str, breadcrumb: bool, want: str) -> None:
    """An unescaped quote ends og:title's `content` early (`content="... und "royaler ..."`)."""
    from lxml import html as lxml_html

    from crawler.metadata import read_page_meta

    crumb = f"<nav><ol><li><h1>{title_tag}</h1></li></ol></nav>" if breadcrumb else ""
    page = (
        '<html><head><meta property="og:title" content="Marathon: Sieger und "royaler Besuch"">'
        f"<title>{title_tag}</title></head><body>{crumb}"
        '<div class="headline">Marathon</div><p>Der Lauf war schnell.</p></body></html>'
    )
    pm = read_page_meta(lxml_html.fromstring(page), "https://www.tagblatt.example/sport/lauf-1.html")
    assert pm.title == want


@pytest.mark.parametrize(
    ("entries", "want"),
    [
        # og:title and the shown heading name the latest entry: the ticker's name wins.
        (["11.13 Uhr: Siedler greifen Dorf an", "10:31 - Farbanschlag in Berlin"],
         "Krieg in Nahost im News-Ticker vom 26. August"),
        # One timed heading is a schedule line, not a ticker: the shown heading stays.
        (["11.13 Uhr: Siedler greifen Dorf an"], "Nahost-Ticker: Siedler greifen Dorf an"),
        # Timed entries, but the shown heading is none of them: it stays.
        (["12.31 Uhr: Zeitung lehnt Aussagen ab", "10:31 - Farbanschlag in Berlin"],
         "Nahost-Ticker: Siedler greifen Dorf an"),
    ],
)  # fmt: skip
def test_title_of_live_ticker_is_its_name_not_its_latest_entry(entries: list[str], want: str) -> None:
    from lxml import html as lxml_html

    from crawler.metadata import read_page_meta

    shown = "Nahost-Ticker: Siedler greifen Dorf an"
    ld = '{"@type": "NewsArticle", "headline": "Krieg in Nahost im News-Ticker vom 26. August"}'
    page = (
        f'<html><head><meta property="og:title" content="{shown}"><title>{shown} | Tagblatt</title>'
        f'<script type="application/ld+json">{ld}</script></head><body><article><header>'
        f"<h1>{shown}</h1></header>{''.join(f'<h2>{e}</h2><p>Text.</p>' for e in entries)}"
        "</article></body></html>"
    )
    pm = read_page_meta(lxml_html.fromstring(page), "https://www.tagblatt.example/nahost-ticker-100.html")
    assert pm.title == want


def test_strip_site_suffix_drops_site_name_ahead_of_headline() -> None:
    sites = ["Tagblatt", "tagblatt.example", "tagblatt"]
    assert strip_site_suffix("Tagblatt | Pendler werden entlastet", site_names=sites, others=[]) == (
        "Pendler werden entlastet"
    )
    assert strip_site_suffix(
        "tagblatt.example - Politik - Pendler werden entlastet - Tagblatt", site_names=sites, others=[]
    ) == "Politik - Pendler werden entlastet"
    # A head that is not the site's name is part of the headline.
    t = "Pendler | Das ändert sich"
    assert strip_site_suffix(t, site_names=sites, others=[]) == t
    # Nothing but the site's name: left as it is.
    assert strip_site_suffix("Tagblatt", site_names=sites, others=[]) == "Tagblatt"


def test_strip_site_suffix_keeps_dash_inside_headline() -> None:
    t = "Abnehmspritze kommt - So teuer wird sie"
    assert strip_site_suffix(t, site_names=["waz.de"], others=[]) == t
    assert strip_site_suffix(t + " - waz.de", site_names=["waz.de"], others=[]) == t
    assert (
        strip_site_suffix("Titel | Sport | BILD.de", site_names=["bild.de"], others=["Titel"])
        == "Titel"
    )


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024-04-22T15:26:46.863186+00:00", "2024-04-22T15:26:46+00:00"),
        ("2023-04-28T18:03:06Z", "2023-04-28T18:03:06+00:00"),
        ("2024-04-26T20:44:00+0200", "2024-04-26T20:44:00+02:00"),
        ("Fri Apr 28 19:20:36 CEST 2023", "2023-04-28T19:20:36+02:00"),
        ("2024-04-22", "2024-04-22"),
        ("22.04.2024, 15:26", "2024-04-22T15:26:00"),
        ("gestern", None),
    ],
)
def test_parse_date(raw: str, iso: str | None) -> None:
    assert parse_date(raw) == iso


def test_articlebody_rule() -> None:
    page_text = "\n".join(
        PARAS + ["Mehr zum Thema: Verkehrswende in Gefahr und andere Geschichten"]
    )
    body = " ".join(PARAS)
    assert choose_body(page_text, body) == (body, "jsonld")
    teaser = PARAS[0]
    assert choose_body(page_text, teaser)[1] == "trafilatura"  # a teaser is not the article
    other = "Ein ganz anderer Text über ein anderes Thema, der auf der Seite nicht vorkommt. " * 5
    assert choose_body(page_text, other)[1] == "trafilatura"


def test_cleanup_drops_furniture_only() -> None:
    text = "\n".join(
        [
            PARAS[0],
            "Foto: IMAGO/Chris Emil Janßen",
            "© IMAGO / AFP",
            "Titelfoto: Max Muster / AFP",
            "Mehr zum Thema",
            "Verkehrswende in Gefahr",
            "Die Bahn streicht Verbindungen",
            PARAS[1],
            "Jetzt unseren Newsletter abonnieren!",
            "Zur Startseite",
            "Das Foto: ein Motiv, über das in der Stadt seit Wochen gestritten wird, "
            "wie der Bürgermeister sagte. "
            "Es zeigt die alte Brücke, die im Sommer abgerissen werden soll, "
            "und viele Menschen wollen sie behalten.",
        ]
    )
    out = clean_text(text).split("\n\n")
    assert out[0] == PARAS[0] and out[1] == PARAS[1]
    assert len(out) == 3  # the long prose paragraph mentioning a photo stays


def test_cleanup_drops_repeated_headline_date_stamps_and_embed_placeholders() -> None:
    text = "\n".join(
        [
            "Verkehr Pendler werden entlastet",  # kicker + headline, taken from the page head
            "05.08.2024, 20:59 Uhr",
            PARAS[0],
            "Ein Klick für den Datenschutz",
            "Empfohlener redaktioneller Inhalt",
            PARAS[1],
            "Pendler werden entlastet",  # not among the first three: may be a quote, stays
            "Fehler gefunden? Jetzt melden.",
            "Lesedauer: 4 Minuten",
            "Schon gelesen?",
            "Sie sind aktuell nicht eingeloggt.",
            "To view the full story, please subscribe to the Tagblatt.",
            "Von Anna Muster, Berlin",
            "Die Pendlerpauschale im Überblick. 21.04.2024 | 3:18 min",
            "(Quelle: APA/dpa)",
            "dpa/lby",
        ]
    )
    out = clean_text(text, headlines=["Pendler werden entlastet"]).split("\n\n")
    assert out == [PARAS[0], PARAS[1], "Pendler werden entlastet"]
    # Without headlines nothing but the furniture goes; a sentence with a time stays.
    kept = clean_text("Pendler werden entlastet\nUm 20:59 Uhr fiel die Entscheidung.\nVon der Leyen")
    assert kept == "Pendler werden entlastet\n\nUm 20:59 Uhr fiel die Entscheidung.\n\nVon der Leyen"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('{"json": "not html"}', "not_html"),
        ("<html><head><title>Tagblatt</title></head><body><p>Kurz.</p></body></html>", "too_short"),
        (
            "<html><head><title>Just a moment...</title></head><body><p>Checking your browser "
            "before accessing the site.</p></body></html>",
            "block_page",
        ),
        (
            "<html><head><title>Tagblatt</title></head><body><div><p>Wir verwenden Cookies und ähnliche "
            "Technologien. Mit Ihrer Zustimmung verarbeiten wir und unsere Partner Daten für personalisierte "
            "Werbung und Tracking. Sie können Ihre Einwilligung jederzeit widerrufen. Alternativ lesen Sie "
            "mit dem Pur-Abo werbefrei. Akzeptieren und weiter.</p></div></body></html>",
            "consent_wall",
        ),
    ],
)
def test_not_article(html: str, reason: str) -> None:
    with pytest.raises(NotArticle) as info:
        extract_article(html, "https://www.tagblatt.example/x")
    assert info.value.reason == reason
    assert info.value.reason in NotArticle.REASONS


def test_front_page_is_index_page() -> None:
    teasers = "".join(
        f'<div><a href="/politik/artikel-{i}.html">'
        f"Schlagzeile Nummer {i}: Was heute in der Stadt wichtig ist</a></div>"
        for i in range(40)
    )
    html = (
        '<html><head><title>Tagblatt - Nachrichten</title><meta property="og:type" content="website">'
        '<link rel="canonical" href="https://www.tagblatt.example/"></head>'
        f"<body><main>{teasers}</main></body></html>"
    )
    with pytest.raises(NotArticle) as info:
        extract_article(html, "https://www.tagblatt.example/")
    assert info.value.reason == "index_page"

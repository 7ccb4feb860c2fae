"""News furniture removal on extracted text, paragraph by paragraph.

trafilatura keeps what looks like prose; on news pages some of that is furniture:
image captions and credits, "Zur Startseite", newsletter and paywall teasers,
"Mehr zum Thema" link blocks. Left in, they make unrelated articles of one outlet look
alike to MinHash. Rules here drop whole paragraphs, never words inside a sentence, and
only short paragraphs (a caption or a call to action is short; a paragraph of the
story that happens to mention a photo is not).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# A paragraph longer than this is prose, whatever words it starts with.
MAX_FURNITURE_CHARS = 220

# Photo and media credits: "Foto: dpa", "Bild: IMAGO/...", "© IMAGO / AFP",
# "Titelfoto: Max Muster / AFP", "(Photo by X/Getty Images)".
_CREDIT_LABEL = (
    r"(?:Titel|Symbol|Archiv|Aufmacher|Header|Beitrags)?(?:foto|bild)s?|Fotos?|Bilder?|Bildquelle|Fotoquelle|"
    r"Quelle\s+Foto|Grafik|Illustration|Infografik|Karte|Video|Audio|Fotograf(?:in)?|Bildrechte|"
    r"Photo|Photos|Image|Images|Picture|Credit|Photograph|Illustration by|Photo by"
)
PHOTO_CREDIT = re.compile(
    rf"^\s*(?:\(?\s*(?:{_CREDIT_LABEL})\s*:|©|\(c\)|copyright\b|\(?photo by\b|\(?image:)",
    re.IGNORECASE,
)
# A caption that ends in its credit: "Der Kanzler in Berlin. Foto: Kay Nietfeld/dpa".
CAPTION_TAIL = re.compile(
    rf"(?:(?:{_CREDIT_LABEL})\s*:\s*[^.]{{0,80}}|©\s*[^.]{{0,80}}|"
    r"\b(?:IMAGO|picture[ -]alliance|Getty Images|"
    r"Keystone|dpa-Zentralbild|EPA-EFE|AP Photo|Reuters/[A-Z][^.]{0,40})[^.]{0,60})\)?\s*$",
    re.IGNORECASE,
)
PHOTO_AGENCY = re.compile(
    r"\b(?:IMAGO|picture[ -]alliance|Getty Images|Shutterstock|iStock|Keystone)\b", re.I
)

# Whole-paragraph furniture, matched against the paragraph with its trailing
# punctuation removed. German first, then the English equivalents of the aeb pages.
_FURNITURE = [
    r"zur startseite",
    r"zurück zur startseite",
    r"(?:mehr|alles) zum thema.*",
    r"(?:lesen sie|lies) (?:auch|mehr|hier).*",
    r"(?:das )?könnte sie auch interessieren.*",
    r"auch interessant.*",
    r"weitere (?:artikel|nachrichten|meldungen|themen)(?: zum thema)?.*",
    r"(?:mehr|weitere) (?:news|nachrichten|infos?) (?:aus|zu|zum|über).*",
    r"(?:artikel|beitrag|seite) (?:teilen|drucken|merken|versenden).*",
    r"(?:teilen|drucken|merken|kommentieren|kommentare|zu den kommentaren)",
    r"(?:jetzt |hier )?(?:kostenlos(?:en)? )?(?:für (?:den|unseren) )?newsletter"
    r".*(?:abonnieren|anmelden|bestellen).*",
    r"(?:melden sie sich|abonnieren sie).*newsletter.*",
    r".{0,80}newsletter.{0,80}(?:abonnieren|anmelden|bestellen|registrieren).*",
    r"(?:jetzt|hier) (?:weiterlesen|abonnieren|anmelden|registrieren|testen|abonnent werden).*",
    r"(?:sie|du) (?:haben|hast) bereits ein (?:abo|abonnement|konto).*",
    r"(?:um )?(?:diesen|den) (?:artikel|beitrag) (?:vollständig |weiter )?(?:zu )?(?:lesen|weiterlesen).*",
    r"dieser (?:artikel|beitrag|inhalt) (?:ist )?(?:nur )?(?:für|exklusiv für) "
    r"(?:abonnenten|abonnentinnen|plus).*",
    r"(?:exklusiv )?für (?:abonnenten|abonnentinnen)",
    r"weiterlesen mit .*",
    r"(?:anzeige|werbung|advertisement|sponsored|gesponsert)",
    r"(?:hinweis: )?(?:dieser artikel|dieser text) (?:wurde|ist) (?:automatisch|maschinell).*übersetzt.*",
    r"(?:folgen sie|folge) uns (?:auf|bei).*",
    r"(?:sign up|subscribe) (?:for|to) (?:our|the) .*newsletter.*",
    r"(?:read|see) (?:more|also)(?: on this story)?(?: ?:.*)?",
    r"related(?: articles?| stories| coverage)?(?: ?:.*)?",
    r"share (?:this|on) .*",
    r"follow us on .*",
    r"(?:click|tap) here to .*",
    r"(?:this|the) article (?:is|was) (?:available|only) .*(?:subscribers|members).*",
    # Embedded-content placeholders (consent click-throughs for video, charts, posts).
    r"ein klick für den datenschutz",
    r"empfohlener (?:redaktioneller )?inhalt",
    r"an dieser stelle finden sie (?:einen|einen von unseren redakteuren ausgewählten,?) externen inhalt.*",
    r"ich bin damit einverstanden, dass mir (?:der )?externe(?:r)? inhalt(?:e)? angezeigt werd.*",
    r"link zum (?:youtube|twitter|x|instagram|facebook|tiktok|podcast)-inhalt",
    # Reader services around the article: error reports, ratings, reading time.
    r"fehler gefunden\??\s*jetzt melden",
    r"bitte markieren sie die entsprechenden wörter im text.*",
    r"wie hat (?:ihnen|dir) (?:dieser|der) (?:artikel|beitrag) gefallen\??",
    r"durchschnittliche bewertung:? [\d,.]+",
    r"lesedauer:? (?:ca\. )?\d+ min(?:uten?|\.)?",
    r"(?:tempo de leitura|reading time|read time):? \d+ min\w*",
    r"(?:dieses thema im programm|sendung):.*",
    r"(?:\d+ )?(?:comments?|kommentare?)",
    r"(?:you may also like|most read(?: in [\w ]+)?|don'?t miss)",
    r"schon gelesen\??",
    r"(?:notas relacionadas|le puede interesar|czytaj (?:też|także)|lea(?: también| más)?)(?: ?:.*)?",
    r"anzeige,? enthält affiliate[- ]links?",
    r"sie sind (?:aktuell |derzeit )?nicht (?:eingeloggt|angemeldet)",
    r"(?:bild|bilder|galerie) anzeigen",
    r"alle angaben ohne gewähr",
    r"(?:view|show|load) (?:\d+ )?comments|kommentare insgesamt:?.*",
    r"to (?:view|read) the (?:full|rest of the|whole) (?:story|article),? "
    r"(?:please )?(?:subscribe|log in|sign in).*",
    r"we want to hear what you think about this article",
    r"follow [\w .@]{1,40} on (?:twitter|facebook|instagram|x)\b.*",
]
FURNITURE = re.compile(r"^\s*(?:" + "|".join(_FURNITURE) + r")\s*$", re.IGNORECASE)
# Headings that open a block of teaser links: drop the heading and the short
# paragraphs right after it (link titles), up to the next real paragraph.
BLOCK_OPENER = re.compile(
    r"^\s*(?:mehr zum thema|lesen sie auch|auch interessant|das könnte sie auch interessieren|"
    r"weitere artikel|mehr aus (?:dem|der|diesem) [\w-]+|empfehlungen(?: der redaktion)?|"
    r"related(?: articles| stories)?|read more|more on this story|top-themen(?: bei [\w .-]+)?|"
    r"meistgelesen)\s*:?\s*$",
    re.IGNORECASE,
)
# A paragraph that is only a date stamp: "05.08.2024, 20:59 Uhr", "Stand: 22.04.2024,
# 06:00 Uhr", "Freitag, 28.04.2023, 19:25", "Updated at 1:23 p.m.". The date is metadata.
DATE_STAMP = re.compile(
    r"^\s*(?:(?:stand|aktualisiert|veröffentlicht|erstellt|zuletzt aktualisiert|updated|published)"
    r"(?: am| at| on)?:?\s*)?(?:(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s*)?"
    r"(?:\d{1,2}\.\s?(?:\d{1,2}\.|[a-zä]+)\s?\d{2,4}|\d{4}-\d{2}-\d{2})?"
    r"(?:,?\s*(?:um\s*)?\d{1,2}[:.]\d{2}(?:\s*(?:uhr|[ap]\.?m\.?))?)?\s*$",
    re.IGNORECASE,
)
# A byline paragraph: "Von Anna Muster", "von Katja Belousova", "By Jane Doe and John Roe",
# optionally with the place: "Von Anna Sleegers, Frankfurt". Authors are metadata.
BYLINE = re.compile(
    r"^\s*(?i:von|by)\s+[A-ZÄÖÜ][\w.'-]+(?:\s+[A-ZÄÖÜ][\w.'-]+){0,3}"
    r"(?:\s*(?:,|(?i:und|and))\s+[A-ZÄÖÜ][\w.'-]+(?:\s+[A-ZÄÖÜ][\w.'-]+){0,3}){0,3}\s*$"
)
# A video or audio teaser: its caption ends in date and duration ("... 21.04.2024 | 3:18 min").
MEDIA_TEASER = re.compile(
    r"\d{1,2}\.\d{1,2}\.\d{4}\s*\|\s*\d{1,3}:\d{2}\s*min\.?\s*$", re.IGNORECASE
)
# The last paragraph as a credit or an editor's sign-off: "Quelle: ntv.de", "(Quelle:
# APA/sda/dpa)", "Mit Agenturmaterial.", "mit dpa", "SDA/sep", "(dmk)", "MDR (dst)". Agencies
# are read from the body before cleanup (crawler.agencies): dropping it loses no credit.
_CODES = r"[a-z]{2,6}(?:\s*[/,]\s*[a-z]{2,6}){0,3}"
SIGN_OFF = re.compile(
    rf"^\s*(?:\(?(?:quellen?|material):\s*[^\n]{{1,60}}|\(?mit agenturmaterial|"
    rf"\(?mit material (?:von|der) [^\n]{{1,60}}|\({_CODES}\)|[a-z]{{2,6}}(?:\s*/\s*[a-z]{{2,6}}){{1,3}}|"
    rf"mit {_CODES}|[A-Z]{{2,6}}\s*\([a-z]{{2,4}}\))\.?\s*$",
    re.IGNORECASE,
)
# Wire-service housekeeping lines: "© dpa-infocom, dpa:240422-99-123456/2".
WIRE_ID = re.compile(
    r"^\s*(?:©\s*)?(?:dpa-infocom,\s*)?dpa:\d{6}-\d{2,3}-\d+(?:/\d+)?\s*$", re.IGNORECASE
)


def is_photo_credit(paragraph: str) -> bool:
    """A caption or credit line: short, and labelled or ended as a media credit."""
    p = paragraph.strip()
    if len(p) > MAX_FURNITURE_CHARS:
        return False
    if PHOTO_CREDIT.match(p):
        return True
    # A caption ends in its credit; a prose sentence almost never ends in "Foto: X/dpa".
    # The cheap hints first: the unanchored CAPTION_TAIL search is the costly part.
    return (":" in p[-100:] or "©" in p or bool(PHOTO_AGENCY.search(p))) and bool(
        CAPTION_TAIL.search(p)
    )


def is_furniture(paragraph: str) -> bool:
    p = paragraph.strip().rstrip(".!:›»>→ ")
    if len(p) > MAX_FURNITURE_CHARS:
        return False
    return bool(FURNITURE.match(p) or WIRE_ID.match(p) or (_DIGIT.search(p) and DATE_STAMP.match(p)))


_DIGIT = re.compile(r"\d")


def split_paragraphs(text: str) -> list[str]:
    # Inner whitespace is kept as extracted: shingling splits on it anyway, and
    # rewriting it would make the stored text differ from the page for no gain.
    return [p for p in (line.strip() for line in text.splitlines()) if p]


def _repeats_headline(paragraph: str, headlines: set[str]) -> bool:
    """The paragraph is the headline again, alone or behind its kicker ("Kicker Headline")."""
    k = text_key(paragraph)
    if not k or len(k) > 300:
        return False
    return k in headlines or any(k.endswith(" " + h) and len(k) < 2 * len(h) for h in headlines)


def clean_text(text: str, *, headlines: Iterable[str] = ()) -> str:
    """Cleaned body: furniture paragraphs dropped, paragraphs joined by blank lines.

    `headlines` are the page's headline candidates: trafilatura often takes the
    headline (with its kicker) as the first paragraph; among the first three
    paragraphs, one that repeats a headline is dropped (it is the title, not text).
    """
    text = unicodedata.normalize("NFC", text)
    paras = split_paragraphs(text)
    heads = {k for k in (text_key(h) for h in headlines) if len(k) >= 10}
    if heads:
        head = [p for p in paras[:3] if not _repeats_headline(p, heads)]
        paras = head + paras[3:]
    out: list[str] = []
    in_block = False
    for p in paras:
        if in_block:
            # Teaser link titles are short and rarely end like a sentence.
            if len(p) < 120 and not p.endswith((".", "?", "!", "“", '"')):
                continue
            in_block = False
        if BLOCK_OPENER.match(p):
            in_block = True
            continue
        if (
            is_photo_credit(p)
            or is_furniture(p)
            or BYLINE.match(p)
            or ("|" in p and MEDIA_TEASER.search(p))  # the cheap hint before the search
        ):
            continue
        out.append(p)
    while out and len(out[-1]) <= 60 and SIGN_OFF.match(out[-1]):
        out.pop()
    # Repeated paragraphs (a teaser echoing the lead, a caption twice) are kept once.
    seen: set[str] = set()
    result = []
    for p in out:
        if len(p) <= 40:  # its key is no longer: never a repeat that counts
            result.append(p)
            continue
        k = text_key(p)
        if len(k) > 40 and k in seen:
            continue
        seen.add(k)
        result.append(p)
    return "\n\n".join(result)


_NON_WORD = re.compile(r"\W+")


def text_key(s: str) -> str:
    """Lower-case words joined by single spaces: for comparing texts, not for storing."""
    return _NON_WORD.sub(" ", s).strip().lower()

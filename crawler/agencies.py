"""Which news agencies an article credits for its text.

Credits are found where newsrooms put them: a dateline "Berlin (dpa) -", a credit
parenthesis "(dpa, AFP, Reuters)", a source line "Quelle: dpa" / "Mit Material von AFP",
a trailing signature "dpa/lby", the dpa wire id "dpa:240422-99-...", and bylines
(authors named "dpa", JSON-LD author/creditText). Photo credits ("Foto: dpa",
"© IMAGO / AFP", "Titelfoto: ... / AFP") credit an image, not the text: every context
that carries a media label is removed before matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import groupby

from crawler.cleanup import MAX_FURNITURE_CHARS, PHOTO_AGENCY, PHOTO_CREDIT

# Normalized name -> spellings (matched case-insensitively unless noted in CASED).
AGENCIES: dict[str, tuple[str, ...]] = {
    "dpa": (
        "dpa",
        "dpa-AFX",
        "dpa-infocom",
        "dpa-tmn",
        "Deutsche Presse-Agentur",
        "Deutschen Presse-Agentur",
    ),
    "AFP": ("AFP", "Agence France-Presse", "Agence France Presse"),
    "Reuters": ("Reuters", "rtr", "Thomson Reuters"),
    "AP": ("AP", "Associated Press", "The Associated Press"),
    "epd": ("epd", "Evangelischer Pressedienst", "Evangelischen Pressedienst"),
    "KNA": ("KNA", "Katholische Nachrichten-Agentur", "Katholischen Nachrichten-Agentur"),
    "SID": ("SID", "Sport-Informations-Dienst", "Sport-Informationsdienst"),
    "dts": ("dts", "dts Nachrichtenagentur"),
    "APA": ("APA", "Austria Presse Agentur", "APA-OTS"),
    "ots": ("ots", "OTS"),
    "Agenturen": ("Agenturen", "Agenturmaterial", "Nachrichtenagenturen", "Agentur"),
}
# Short all-caps names that are ordinary words in lower case ("ap", "sid") or
# abbreviations inside prose: matched case-sensitively.
CASED = {"AP", "SID", "APA", "KNA", "AFP"}
ORDER = list(AGENCIES)

_alias_to_name: dict[str, str] = {}
for _name, _aliases in AGENCIES.items():
    for _a in _aliases:
        _alias_to_name.setdefault(_a.lower(), _name)
# Lowercase forms of the cased names that are still credits in parentheses ("(ap)", "(sid)").
_PAREN_LOWER_OK = {"ap", "sid", "afp", "kna", "apa"}

_ALIAS_RE = "|".join(sorted((re.escape(a) for a in _alias_to_name), key=len, reverse=True))
# dpa regional desks and editor initials: "dpa/lby", "dpa-tmn", "AFP/jba", "ck/dpa".
_CODE = (
    r"(?-i:[a-z]{2,4})"  # desk codes are lower case even where names are matched case-insensitively
)
_TOKEN = rf"(?:{_ALIAS_RE})(?:[/-]{_CODE})*"
_SEP = r"\s*(?:[,/;+&]|und|and|u\.)\s*"
_LIST = rf"(?:{_CODE}/)?{_TOKEN}(?:{_SEP}(?:{_CODE}/)?{_TOKEN})*"

# "(dpa)", "(dpa, AFP)", "(AFP/dpa)", "(mit Material von dpa)", "(red/Agenturen)"
PAREN = re.compile(
    rf"\(\s*(?:(?:mit\s+)?(?:material|informationen|angaben)\s+(?:von|der|des)\s+(?:den\s+)?"
    rf"(?:nachrichtenagenturen?\s+)?|quellen?:\s*|{_CODE}/)?({_LIST})\s*\)",
    re.IGNORECASE,
)
# "Quelle: dpa", "Mit Material von dpa und AFP", "Material: Reuters", "Text: dpa",
# "Übersetzung und Adaptierung: AFP Deutschland"
SOURCE_LINE = re.compile(
    rf"(?:^[-–•*]?\s*|[.!?]\s+|\s—\s)(?:quellen?|material|text|(?:übersetzung|adaptierung|bearbeitung)(?:\s+und\s+\w+)?|"
    rf"mit\s+material\s+(?:von|der|des)(?:\s+den)?(?:\s+nachrichtenagenturen?)?|mit\s+agenturmaterial|"
    rf"nach\s+angaben\s+der\s+nachrichtenagenturen?|"
    rf"unter\s+verwendung\s+von\s+material\s+(?:der|von)(?:\s+nachrichtenagenturen?)?)\s*:?\s*({_LIST})?",
    re.IGNORECASE | re.MULTILINE,
)
# "Mit Informationen unserer Korrespondenten sowie der Nachrichtenagenturen AFP, AP und dpa"
MATERIAL_SENTENCE = re.compile(
    rf"\bmit\s+(?:material|informationen|angaben)\b[^.\n]{{0,160}}?\bnachrichtenagenturen?\s+({_LIST})",
    re.IGNORECASE,
)
# A signature paragraph at the very end: "dpa/lby", "AFP/jba", "(ck/dpa)", "mit dpa".
SIGNATURE = re.compile(rf"^\(?\s*(?:mit\s+|von\s+)?({_LIST})\s*\)?\.?$", re.IGNORECASE)
WIRE_ID = re.compile(r"\bdpa:\d{6}-\d{2,3}-\d+", re.IGNORECASE)

_TOKEN_SPLIT = re.compile(rf"({_ALIAS_RE})(?![\w-])", re.IGNORECASE)
# Contexts that credit media: a labelled credit up to the end of its clause.
# The leading \b lets the regex engine skip positions inside words (2x faster on bodies).
_MEDIA_SPAN = re.compile(
    r"\b(?:(?:Titel|Symbol|Archiv|Aufmacher|Bild|Foto)?(?:foto|bild|grafik|credit)s?|"
    r"Fotos?|Bilder?|Bildquelle|Fotograf(?:in)?|Grafik|Infografik|Illustration|Video|Karte|"
    r"Photo|Image|Credit)\s*:[^()\n]*|©[^()\n]*|"
    r"\b(?:IMAGO|picture[ -]alliance|Getty Images|Keystone|EPA-EFE|Shutterstock)\b[^()\n]*",
    re.IGNORECASE,
)


def _first_letter_alternation(words: Iterable[str]) -> str:
    """`a(?:fp|p|pa)|d(?:pa|ts)`: one test per letter where `afp|ap|apa|dpa|dts` tries each word.

    The regex engine tries the branches of an alternation one by one at every position;
    grouped by first letter, a position that starts no alias fails after one comparison.
    """
    groups = []
    for first, same in groupby(sorted(words), key=lambda w: w[0]):
        rests = sorted((w[1:] for w in same), key=len, reverse=True)  # longest first
        groups.append(re.escape(first) + "(?:" + "|".join(map(re.escape, rests)) + ")")
    return "|".join(groups)


# An alias as a word of the lower-cased text. Every credit pattern below starts its
# agency list at a word boundary ("(dpa", "Quelle: AFP", "lby/dpa"), so a text without
# such a word credits nobody; most bodies have none, and this test is ~4x cheaper than
# the credit patterns.
_ALIAS_WORD = re.compile(rf"\b(?:{_first_letter_alternation(_alias_to_name)})(?![\w-])")


def mentions_agency(text: str) -> bool:
    """An agency name or alias as a word of `text`: the cheap test before credits_in_text."""
    return _ALIAS_WORD.search(text.lower()) is not None


def _names_in(span: str, *, in_parens: bool) -> list[str]:
    names = []
    for m in _TOKEN_SPLIT.finditer(span):
        raw = m.group(1)
        name = _alias_to_name[raw.lower()]
        if name in CASED and raw != AGENCIES[name][0] and raw.lower() == AGENCIES[name][0].lower():
            # "ap"/"sid" in lower case: a credit only inside a credit parenthesis.
            if not (in_parens and raw.lower() in _PAREN_LOWER_OK):
                continue
        names.append(name)
    return names


# A media label right before a colon: the cheap test for lines that need _MEDIA_SPAN.
_MEDIA_LABEL = re.compile(
    r"(?:fotos?|bilds?|bilder|quelle|fotograf(?:in)?|grafik|illustration|video|karte|photo|image|"
    r"credits?)\s*:",
    re.IGNORECASE,
)


def strip_media_credits(text: str) -> str:
    """Text with photo/video credit contexts removed, so they cannot count."""
    lines = []
    for line in text.splitlines():
        s = line.strip()
        agency = PHOTO_AGENCY.search(s)
        if len(s) <= MAX_FURNITURE_CHARS and (agency or PHOTO_CREDIT.match(s)):
            continue
        # A media context needs a label's colon, a "©" or a photo agency's name: lines
        # with none of them (most of a body) skip the substitution.
        if agency or "©" in line or (":" in line and _MEDIA_LABEL.search(line)):
            line = _MEDIA_SPAN.sub(" ", line)
        lines.append(line)
    return "\n".join(lines)


def credits_in_text(text: str) -> list[str]:
    """Agencies credited by the text's credit lines, in order of first mention."""
    if not mentions_agency(text):
        return []
    found: list[str] = []
    # The dpa wire id is housekeeping, not a photo credit, even behind a "©".
    if ("pa:" in text or "PA:" in text) and WIRE_ID.search(text):
        found.append("dpa")
    text = strip_media_credits(text)
    for m in MATERIAL_SENTENCE.finditer(text):
        found += _names_in(m.group(1), in_parens=True)
    for m in PAREN.finditer(text):
        found += _names_in(m.group(1), in_parens=True)
    for m in SOURCE_LINE.finditer(text):
        if m.group(1):
            found += _names_in(m.group(1), in_parens=True)
        elif "agentur" in m.group(0).lower():
            found.append("Agenturen")
    paras = [p.strip() for p in text.splitlines() if p.strip()]
    for p in paras[-3:]:
        if len(p) <= 60 and (sig := SIGNATURE.match(p)):
            found += _names_in(sig.group(1), in_parens=True)
    return normalize(found)


def credits_in_bylines(names: Iterable[str]) -> list[str]:
    """Agencies among byline or JSON-LD author names ("dpa", "AFP Deutschland", "Reuters")."""
    found = []
    for name in names:
        s = " ".join(name.split())
        s = re.sub(r"^(?:von|by|quelle:?)\s+", "", s, flags=re.IGNORECASE)
        if PHOTO_CREDIT.match(s) or PHOTO_AGENCY.search(s):
            continue
        # Each part of the byline ("Anna Muster, dpa") counts only when the whole part
        # is agency names, optionally with desk codes or a country.
        for part in re.split(r",|;|\s+und\s+|\s+and\s+|\s+mit\s+", s):
            m = re.fullmatch(
                rf"\s*({_LIST})(?:\s+(?:Deutschland|Germany|Österreich|Schweiz|Nachrichtenagentur))?\s*",
                part,
                flags=re.IGNORECASE,
            )
            if m:
                found += _names_in(m.group(1), in_parens=True)
    return normalize(found)


def normalize(names: Iterable[str]) -> list[str]:
    """Known names, each once, in the fixed order of AGENCIES (stable for faceting)."""
    got = set(names)
    return [n for n in ORDER if n in got]


def find_agencies(
    text: str, *, authors: Iterable[str] = (), extra: Iterable[str] = (), lead: str | None = None
) -> list[str]:
    """All agencies credited by body text, bylines/JSON-LD names and the lead (description)."""
    found = credits_in_text(text)
    found += credits_in_bylines(authors)
    found += credits_in_bylines(extra)
    if lead:
        found += credits_in_text(lead)
    return normalize(found)

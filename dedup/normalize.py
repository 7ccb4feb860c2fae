"""Text normalization: from a page's plain text to the passages that carry its copy.

Outlets wrap agency text in furniture (photo credits, teasers, "Zur Startseite",
subscription prompts) and sign it with credit lines ("(dpa)", "© ... / AFP").
None of that is evidence that two pages copy each other, so it is removed here
before anything is shingled.
"""

from __future__ import annotations

import re
import unicodedata

# Agencies whose credit tags ("(dpa)", "(dpa, AFP, Reuters)", "Berlin (dpa) -") are
# signatures, not content: two stories both signed "(dpa)" share nothing.
AGENCIES = (
    "dpa",
    "afp",
    "reuters",
    "rtr",
    "ap",
    "epd",
    "kna",
    "sid",
    "dts",
    "apa",
    "sda",
    "ddp",
    "kap",
    "bang",
    "ots",
    "dpa-afx",
    "afx",
    "awp",
    "idea",
    "ips",
)
_AGENCY = "|".join(sorted((re.escape(a) for a in AGENCIES), key=len, reverse=True))
# "(dpa)", "(dpa, afp)", "(afp/dpa)", "(dpa/lby)": a parenthesis holding only credits.
CREDIT_TAG = re.compile(rf"\(\s*(?:{_AGENCY})(?:\s*[,/;&]\s*(?:{_AGENCY}|[a-z]{{2,4}}))*\s*\)")
# Lines that are credits or furniture, whatever their length: a credit label at the
# start ("Foto: ...", "Quelle: ...") or a copyright sign anywhere.
CREDIT_LABELS = (
    "foto fotos titelfoto bild bilder copyright quelle quellen grafik video mitarbeit autor autorin von"
).split()
CREDIT_PHRASE = "alle rechte vorbehalten"
CREDIT_LINE = re.compile(rf"(?:{'|'.join(CREDIT_LABELS)})\s*:|{CREDIT_PHRASE}")
# A line can match CREDIT_LINE only if it starts like one of its words: `str.startswith`
# rules out most lines before the regex runs.
_CREDIT_STARTS = tuple(sorted({w[:2] for w in (*CREDIT_LABELS, CREDIT_PHRASE)}))
COPYRIGHT = ("©", "(c) ")  # two: `_furniture` tests each
# Teasers cut short: "... und […] (02)", "... weiter …". Searched in a line's last
# characters only: a `$`-anchored search would otherwise try every position.
TRUNCATED = re.compile(r"(?:\[…\]|\[\.\.\.\]|…|\.\.\.)\s*(?:\(\d+\))?\s*$")
_TRUNCATED_TAIL = 24
# A stripped line can match TRUNCATED only if it ends like this (cheaper to test first).
_TRUNCATED_ENDS = ("...", "…", "...]", "…]", ")")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# Typographic variants that outlets swap freely for one another, and their one form.
_UNIFY = {
    "„": '"',
    "“": '"',
    "”": '"',
    "«": '"',
    "»": '"',
    "‟": '"',
    "″": '"',
    "‚": "'",
    "‘": "'",
    "’": "'",
    "‹": "'",
    "›": "'",
    "`": "'",
    "´": "'",
    "–": "-",
    "—": "-",
    "‑": "-",
    "‒": "-",
    "―": "-",
    "−": "-",
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero-width space
}


# Everything that is not part of a word becomes a space, so `str.split` finds the words
# (many times faster than a regex): control characters, ASCII punctuation, Latin-1
# symbols and the General Punctuation block. Letters, digits and `_` of any script stay, as with `\\w+`.
_NONWORD = {
    c: " "
    for c in [*range(0x00, 0x20), *range(0x21, 0x30), *range(0x3A, 0x41), *range(0x5B, 0x5F),
              0x60, *range(0x7B, 0xC0), 0xD7, 0xF7, *range(0x2000, 0x2070), 0x20AC]
    if not chr(c).isalnum()
}


# The same characters as one regex class, for `re.sub`: on text that is not all ASCII,
# `str.translate` looks each character up in a dict (eight times slower on real German
# lines). `_NONWORD` stays the definition (`dedup.sketch` builds its separators from it).
def _ranges(codes: list[int]) -> str:
    out, run = [], [codes[0], codes[0]]
    for c in codes[1:]:
        if c == run[1] + 1:
            run[1] = c
        else:
            out.append(run)
            run = [c, c]
    out.append(run)
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in out
    )


_NONWORD_RE = re.compile(f"[{_ranges(sorted(_NONWORD))}]")

# str.lower() of Latin-1 characters, a byte each: every one lower-cases to one Latin-1
# character, so for a text of them a table on its bytes gives what `str.lower` gives, at a
# fraction of a Unicode case lookup per character.
_LATIN1_LOWER = bytes(ord(chr(i).lower()) for i in range(256))


def _lower(text: str) -> str:
    """`text.lower()`, by bytes when every character is Latin-1 (German text once its
    quotes and dashes are unified); the result is then a one-byte string, which every
    later step walks faster."""
    if text.isascii():
        return text.lower()
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return text.lower()
    return data.translate(_LATIN1_LOWER).decode("latin-1")


def clean_line(line: str) -> str:
    """Unicode-normalize, unify quotes and dashes, lower-case, drop credit tags."""
    line = _lower(_unify(unicodedata.normalize("NFKC", line))).strip()
    return CREDIT_TAG.sub(" ", line)


def passage_texts(text: str, *, max_words: int = 120) -> list[str]:
    """The cleaned lines of `text` that may carry copy, as strings.

    Credit lines and truncated teasers are dropped, a repeated line (a caption
    printed twice) is kept once, and lines longer than `max_words` are cut at
    sentence ends. Short lines are dropped later, when words are counted
    (`dedup.sketch.shingle_batch`).

    This is the rule said in Python; `dedup.sketch.sketch_texts` applies it in a
    compiled pass over a batch's bytes (a test checks that both agree).
    """
    if not text:
        return []
    text = clean_text(text)
    # The stripped non-empty lines, each once at its first place, in C calls (a line
    # dropped as furniture is dropped wherever it recurs).
    lines = dict.fromkeys(filter(None, map(str.strip, text.splitlines())))
    # (a line holds a copyright sign only if the text does: most texts skip that test)
    marked = COPYRIGHT[0] in text or COPYRIGHT[1] in text
    out: list[str] = []
    for line in lines:
        if not _furniture(line, marked):
            out.extend(cut_long(line, max_words))
    return out


def clean_text(text: str) -> str:
    """`text` in NFKC, its quotes and dashes unified, lower-cased, its credit tags
    blanked: what `passage_texts` cuts into lines."""
    # (most texts are in NFKC already: telling costs half of normalizing)
    if not unicodedata.is_normalized("NFKC", text):
        text = _nfkc(text)
    return CREDIT_TAG.sub(" ", _lower(_unify(text)))


def cut_long(line: str, max_words: int) -> list[str]:
    """A kept line as its passages: itself, or its chunks (`long_chunks`)."""
    chunks = long_chunks(line, max_words)
    return [line] if chunks is None else [" ".join(c) for c in chunks]


def long_chunks(line: str, max_words: int) -> list[list[str]] | None:
    """The words of a line of over `max_words` words and as many spaces (words run
    together by punctuation alone are not counted) in chunks cut at sentence ends
    (`_chunks`); None for any other line."""
    # (max_words spaces need at least 2 * max_words characters: skip the count)
    if len(line) > 2 * max_words and line.count(" ") >= max_words:
        spaced = _NONWORD_RE.sub(" ", line)
        if len(spaced.split()) > max_words:
            return _chunks(line, spaced, max_words)
    return None


def _nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, line by line: only the lines not in NFKC
    are normalized. Normalization never reaches across a line feed (U+000A has no
    decomposition, composes with nothing and stops the reordering of combining marks),
    and a text that is not in NFKC mostly has a few such lines (an umlaut written as a
    letter and a combining diaeresis in one quote): two fifths of the cost on real text."""
    return "\n".join(
        line if unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
        for line in text.split("\n")
    )


def _unify(text: str) -> str:
    """`text` with the variants of `_UNIFY` replaced (as `str.translate` would).

    A `str.replace` for each variant present costs far less than `str.translate`,
    which looks up every character of a text that is not ASCII in a dict.
    """
    for variant, plain in _UNIFY.items():
        if variant in text:
            text = text.replace(variant, plain)
    return text


def _furniture(line: str, marked: bool = True) -> bool:
    """A credit line or a truncated teaser (`line` is cleaned: lower case, stripped;
    `marked`: False when its text holds no copyright sign)."""
    return bool(
        (line.startswith(_CREDIT_STARTS) and CREDIT_LINE.match(line))
        or (marked and (COPYRIGHT[0] in line or COPYRIGHT[1] in line))
        or (
            line.endswith(_TRUNCATED_ENDS)
            and TRUNCATED.search(line, max(0, len(line) - _TRUNCATED_TAIL))
        )
    )


def words(line: str) -> list[str]:
    """The words of a cleaned line: runs of letters, digits and `_` (like `\\w+`)."""
    return _NONWORD_RE.sub(" ", line).split()


def passages(text: str, *, min_words: int = 8, max_words: int = 120) -> list[list[str]]:
    """The passages of `text` as lists of words (for inspection and tests)."""
    out = []
    for p in passage_texts(text, max_words=max_words):
        ws = words(p)
        if len(ws) >= min_words:
            out.append(ws)
    return out


def _chunks(line: str, spaced: str, max_words: int) -> list[list[str]]:
    """Cut an over-long line at sentence ends into chunks of about max_words / 2 words
    (`spaced`: the line with its non-word characters made spaces, `words`).

    Sentence ends survive edits better than fixed word windows, so two copies of
    one long block are cut in mostly the same places. (`_NONWORD` maps a character to
    one character, so a sentence's words are those of the same stretch of `spaced`.)
    """
    target = max(1, max_words // 2)
    chunks: list[list[str]] = []
    current: list[str] = []
    at = 0
    for end in [m.start() for m in SENTENCE_END.finditer(line)] + [len(line)]:
        current.extend(spaced[at:end].split())
        at = end
        if len(current) >= target:
            chunks.append(current)
            current = []
    if current:
        if chunks and len(current) < target // 2:
            chunks[-1].extend(current)
        else:
            chunks.append(current)
    return chunks

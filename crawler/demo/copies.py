"""Make an outlet's copy of a wire story the way outlets really do it.

Verbatim, cut from the bottom, with a rewritten lead, one agency's lead with another's
tail, or lightly edited; then credited with a dateline, a suffix or a source line, and
set in the outlet's house style (Swiss outlets write "ss" for "ß" and «» quotes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.demo.texts import CopySpec, Story

# Word swaps of a light edit: small enough that the copy stays a copy.
LIGHT_EDITS = (
    ("erklärte", "sagte"),
    ("Zudem", "Außerdem"),
    ("zudem", "außerdem"),
    ("rund", "etwa"),
    ("allerdings", "jedoch"),
    ("bislang", "bisher"),
    ("Fachleute", "Experten"),
    ("mitteilte", "bekanntgab"),
    ("deutlich", "spürbar"),
)


@dataclass(frozen=True)
class CopyText:
    """The text of a copy as the outlet prints it, and where it came from."""

    paragraphs: tuple[str, ...]
    source_line: str  # printed under the body ("Quelle: AFP"), or ""
    agencies: tuple[str, ...]  # agencies credited for the text, in credit order
    sources: dict[str, float]  # story id -> share of the copy's words taken from it


def light_edit(text: str) -> str:
    for old, new in LIGHT_EDITS:
        text = re.sub(rf"\b{old}\b", new, text)
    return text


def house_style(text: str, country: str) -> str:
    """Swiss spelling has no "ß" and uses guillemets."""
    if country == "CH":
        return text.replace("ß", "ss").replace("„", "«").replace("“", "»")
    return text


def _words(paragraphs: tuple[str, ...]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def make_copy(spec: CopySpec, stories: dict[str, Story], country: str) -> CopyText:
    """Build the copy `spec` describes from the agency text."""
    story = stories[spec.story]
    taken: dict[str, tuple[str, ...]] = {}
    own: tuple[str, ...] = ()
    if spec.style in ("verbatim", "light_edit"):
        taken[story.id] = story.paragraphs
    elif spec.style == "cut":
        if not 0 < spec.keep < len(story.paragraphs):
            raise ValueError(f"copy of {story.id} at {spec.outlet}: keep must cut something")
        taken[story.id] = story.paragraphs[: spec.keep]
    elif spec.style == "rewritten_lead":
        if not spec.lead:
            raise ValueError(f"copy of {story.id} at {spec.outlet}: rewritten_lead needs lead")
        own = (spec.lead,)
        taken[story.id] = story.paragraphs[1:]
    elif spec.style == "mixed":
        head = stories[spec.lead_from]
        taken[head.id] = head.paragraphs[: spec.lead_paragraphs]
        taken[story.id] = story.paragraphs[spec.lead_paragraphs :]
    else:
        raise ValueError(f"unknown copy style {spec.style!r} (outlets.toml)")

    paragraphs = own + tuple(p for part in taken.values() for p in part)
    total = _words(paragraphs)
    sources = {sid: round(_words(part) / total, 3) for sid, part in taken.items()}
    agencies = tuple(dict.fromkeys(stories[sid].agency for sid in taken))
    first = stories[next(iter(taken))]

    if spec.style == "light_edit":
        paragraphs = tuple(light_edit(p) for p in paragraphs)
    paragraphs = tuple(house_style(p, country) for p in paragraphs)

    source_line = ""
    for credit in spec.credit:
        if credit == "dateline":
            paragraphs = (f"{first.dateline} ({first.agency}) - {paragraphs[0]}",) + paragraphs[1:]
        elif credit == "suffix":
            paragraphs = paragraphs[:-1] + (f"{paragraphs[-1]} ({', '.join(agencies)})",)
        elif credit == "source":
            source_line = f"Quelle: {', '.join(agencies)}"
        elif credit == "material":
            source_line = f"Mit Material von {', '.join(agencies)}"
        elif credit == "combined":
            source_line = f"({', '.join(agencies)})"
        elif credit != "byline":
            raise ValueError(f"unknown credit {credit!r} (outlets.toml)")
    if "byline" in spec.credit and spec.author not in agencies:
        raise ValueError(
            f"copy of {story.id} at {spec.outlet}: byline credit needs the agency as author"
        )
    return CopyText(paragraphs, source_line, agencies, sources)

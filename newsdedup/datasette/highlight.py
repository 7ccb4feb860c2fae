"""What a copy shares with its cluster's representative, word by word.

Pure functions over two texts, for the cluster page. A word is *shared* when a word
n-gram covering it (n = the dedup's shingle size, 5 by default) also occurs in the
representative; the rest of the copy is what the outlet *added*, and the
representative's words no n-gram of the copy covers are what it *cut*. Words are
`\\w+` runs, NFKC-normalized and case-folded, and n-grams never cross a paragraph,
as in `dedup.normalize` (Broder, "On the resemblance and containment of documents", 1997).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Segment:
    """A run of a paragraph's original text; `shared` when the other text has it too."""

    text: str  # the original characters, whitespace and punctuation included
    shared: bool  # covered by an n-gram found in the other text


@dataclass(frozen=True)
class Comparison:
    """One text compared with a reference: its paragraphs as segments, and the counts."""

    paragraphs: list[list[Segment]]  # the text's paragraphs, each cut into segments
    words: int  # words in the text
    shared_words: int  # of them covered by an n-gram the reference has
    reference_words: int  # words in the reference
    cut_words: int  # reference words no n-gram of the text covers
    cut: list[str]  # the reference's passages (>= n words) missing from the text

    @property
    def shared_share(self) -> float:
        """Part of the text found in the reference (1.0 for a verbatim copy)."""
        return self.shared_words / self.words if self.words else 0.0

    @property
    def added_share(self) -> float:
        """Part of the text that is not in the reference: the outlet's own words."""
        return 1.0 - self.shared_share if self.words else 0.0

    @property
    def cut_share(self) -> float:
        """Part of the reference missing from the text."""
        return self.cut_words / self.reference_words if self.reference_words else 0.0


def paragraphs(text: str | None) -> list[str]:
    """Non-empty lines of a stored text (paragraphs are separated by blank lines)."""
    # NFC so that a decomposed umlaut is one word character, as it is after dedup's NFKC.
    text = unicodedata.normalize("NFC", text or "")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _tokens(paragraph: str) -> list[re.Match[str]]:
    return list(WORD.finditer(paragraph))


def _norm(word: str) -> str:
    # casefold: "FLIESSEN" and "fließen" are one word.
    return unicodedata.normalize("NFKC", word).casefold()


def ngrams(text: str | None, n: int = 5) -> set[tuple[str, ...]]:
    """Every word n-gram of every paragraph; a paragraph shorter than n is one gram."""
    out: set[tuple[str, ...]] = set()
    for para in paragraphs(text):
        out.update(_grams([_norm(m.group()) for m in _tokens(para)], n))
    return out


def _grams(words: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    if not words:
        return []
    if len(words) < n:
        return [tuple(words)]
    return (tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _covered(words: Sequence[str], grams: set[tuple[str, ...]], n: int) -> list[bool]:
    """Per word: is it inside an n-gram that `grams` holds?"""
    covered = [False] * len(words)
    if len(words) < n:
        if words and tuple(words) in grams:
            covered = [True] * len(words)
        return covered
    for i in range(len(words) - n + 1):
        if tuple(words[i : i + n]) in grams:
            for j in range(i, i + n):
                covered[j] = True
    return covered


def _segments(paragraph: str, matches: list[re.Match[str]], covered: list[bool]) -> list[Segment]:
    """Cut a paragraph into runs of shared / not shared text.

    The characters between two words belong to the run when both words do, so a
    shared sentence is one highlight with its commas, not a highlight per word.
    """
    if not matches:
        return [Segment(paragraph, False)]
    out: list[Segment] = []
    start, state = 0, covered[0]
    for k in range(1, len(matches)):
        if covered[k] != state:
            cut = matches[k - 1].end() if state else matches[k].start()
            out.append(Segment(paragraph[start:cut], state))
            start, state = cut, covered[k]
    out.append(Segment(paragraph[start:], state))
    return [s for s in out if s.text]


def compare(text: str | None, reference: str | None, n: int = 5) -> Comparison:
    """Mark the passages `text` shares with `reference`, and find what it cut from it."""
    ref_grams = ngrams(reference, n)
    own_grams = ngrams(text, n)
    paras: list[list[Segment]] = []
    words = shared = 0
    for para in paragraphs(text):
        matches = _tokens(para)
        covered = _covered([_norm(m.group()) for m in matches], ref_grams, n)
        words += len(matches)
        shared += sum(covered)
        paras.append(_segments(para, matches, covered))
    ref_words = cut_words = 0
    cut: list[str] = []
    for para in paragraphs(reference):
        matches = _tokens(para)
        covered = _covered([_norm(m.group()) for m in matches], own_grams, n)
        ref_words += len(matches)
        cut_words += covered.count(False)
        for seg in _segments(para, matches, covered):
            if not seg.shared and len(WORD.findall(seg.text)) >= n:
                cut.append(seg.text.strip())
    return Comparison(paras, words, shared, ref_words, cut_words, cut)

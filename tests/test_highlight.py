"""The cluster page's highlighting: word n-gram overlap of a copy with the representative."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup.datasette.highlight import compare, ngrams

REP = (
    "Berlin (dpa) - Die Bundesregierung hat am Mittwoch ein neues Gesetz zur Förderung der Bahn "
    "beschlossen.\n\n"
    "Der Verkehrsminister sagte, die Mittel würden vor allem in marode Brücken und Stellwerke fließen.\n\n"
    "Kritik kam von der Opposition, die das Programm für viel zu klein hält und mehr Geld fordert."
)


def marked(comparison):
    return [["".join(s.text for s in para if s.shared)] for para in comparison.paragraphs]


def test_verbatim_copy_is_shared_everywhere_and_cuts_nothing():
    c = compare(REP, REP)
    assert c.shared_share == 1.0 and c.added_share == 0.0
    assert c.cut_words == 0 and c.cut == []
    # Segments keep every character: the text can be rebuilt from them.
    assert ["".join(s.text for s in p) for p in c.paragraphs] == REP.split("\n\n")


def test_added_paragraph_is_not_highlighted_and_cut_paragraph_is_listed():
    paras = REP.split("\n\n")
    own = "Unsere Zeitung hat bei Pendlern in der Region nachgefragt, was sie davon halten."
    copy = "\n\n".join([paras[0], paras[1], own])  # third paragraph cut, own one added
    c = compare(copy, REP)
    assert [s.shared for s in c.paragraphs[0]] == [True]
    assert [s.shared for s in c.paragraphs[2]] == [False]
    assert c.paragraphs[2][0].text == own
    assert c.cut == [paras[2]]
    words = lambda s: len(re.findall(r"\w+", s))  # noqa: E731
    assert c.cut_words == words(paras[2])
    assert c.words == words(paras[0]) + words(paras[1]) + words(own) == 42
    assert 0.6 < c.shared_share < 0.8
    assert abs(c.added_share + c.shared_share - 1) < 1e-9


def test_an_edited_word_breaks_the_highlight_only_around_it():
    paras = REP.split("\n\n")
    edited = paras[0].replace("Mittwoch", "Dienstag")
    c = compare(edited, paras[0])
    segs = c.paragraphs[0]
    # Five words on each side of the edit: unchanged 5-grams still cover them.
    assert [(s.text, s.shared) for s in segs] == [
        ("Berlin (dpa) - Die Bundesregierung hat am", True),
        (" Dienstag ", False),
        ("ein neues Gesetz zur Förderung der Bahn beschlossen.", True),
    ]
    # Near a paragraph's end no 5-gram reaches past the edit: the tail is not shared.
    tail = compare(paras[1].replace("Stellwerke", "Gleise"), paras[1]).paragraphs[0]
    assert [s.shared for s in tail] == [True, False]
    assert tail[1].text.strip() == "Gleise fließen."


def test_matching_ignores_case_and_unicode_forms_and_keeps_the_original_text():
    copy = REP.upper().replace("Ö", "Ö")  # upper case, decomposed umlaut
    c = compare(copy, REP)
    assert c.shared_share == 1.0
    assert "".join(s.text for s in c.paragraphs[0]) == copy.split("\n\n")[0]


def test_ngrams_do_not_cross_paragraphs():
    assert ("eins", "zwei", "drei", "vier", "fünf") not in ngrams("eins zwei drei\n\nvier fünf sechs")
    assert ngrams("kurz\n\n", 5) == {("kurz",)}


def test_unrelated_text_and_empty_text():
    c = compare("Ganz andere Worte stehen hier in diesem kurzen Text über das Wetter.", REP)
    assert c.shared_words == 0 and c.cut_share == 1.0
    empty = compare("", REP)
    assert empty.words == 0 and empty.shared_share == 0.0 and empty.paragraphs == []
    assert compare(REP, None).cut == [] and compare(REP, None).shared_share == 0.0


WORDS = st.lists(st.sampled_from("a b c d e f g h".split()), min_size=0, max_size=40)


@settings(max_examples=200, deadline=None)
@given(WORDS, WORDS, st.integers(1, 6))
def test_properties(a, b, n):
    text, reference = " ".join(a), " ".join(b)
    c = compare(text, reference, n)
    # Segments rebuild the text exactly; counts stay in range.
    assert "\n\n".join("".join(s.text for s in p) for p in c.paragraphs) == text.strip()
    assert 0 <= c.shared_words <= c.words == len(a)
    assert 0 <= c.cut_words <= c.reference_words == len(b)
    # Comparing with itself shares everything.
    assert compare(text, text, n).shared_words == len(a)
    # Shared words of one side exist only when the other side misses fewer than all.
    assert (c.shared_words == 0) or (c.cut_words < c.reference_words)

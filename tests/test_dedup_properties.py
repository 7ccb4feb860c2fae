"""Hypothesis properties: order, batching, identical texts, furniture and credit lines."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup
from crawler.store import Store
from dedup.normalize import CREDIT_LABELS
from tests.test_dedup_core import clusters_by_url, story

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FURNITURE = (
    "Zur Startseite\n"
    "Foto: picture alliance/dpa\n"
    "© Andriy ANDRIYENKO / 65th Mechanized Brigade / AFP\n"
    "Jetzt unseren Newsletter abonnieren!\n"
    "Weitere Nachrichten aus Politik und Wirtschaft lesen Sie jeden Tag hier bei uns […] (01)\n"
)


@st.composite
def corpora(draw: st.DrawFn) -> dict[str, str]:
    """A few stories, some copied (edited, cut or extended), some duplicated exactly."""
    n = draw(st.integers(2, 5))
    seeds = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    texts: dict[str, str] = {}
    for i, seed in enumerate(seeds):
        text = story(seed)
        texts[f"s{i}"] = text
        kind = draw(st.sampled_from(["none", "extend", "cut", "exact"]))
        paras = text.split("\n\n")
        if kind == "extend":
            texts[f"s{i}x"] = text + "\n\n" + story(seed + 50_000, 1)
        elif kind == "cut":
            texts[f"s{i}x"] = "\n\n".join(paras[:3])
        elif kind == "exact":
            texts[f"s{i}x"] = text
    return texts


def _run(texts: dict[str, str], order: list[str], runs: int) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "n.db"
        store = Store(path)
        conn = sqlite3.connect(str(path), isolation_level=None)
        size = -(-len(order) // runs)
        for i in range(0, len(order), size):
            store.upsert_articles(
                {"url": f"https://example.org/{k}", "outlet": "t", "text": texts[k]}
                for k in order[i : i + size]
            )
            dedup.update(conn, batch_size=3)
        got = clusters_by_url(conn)
        conn.close()
        store.close()
        return got


@SETTINGS
@given(corpora(), st.randoms(use_true_random=False))
def test_order_and_batching_do_not_matter(texts: dict[str, str], rnd) -> None:  # type: ignore[no-untyped-def]
    keys = sorted(texts)
    batch = _run(texts, keys, 1)
    shuffled = list(keys)
    rnd.shuffle(shuffled)
    assert _run(texts, shuffled, 5) == batch
    assert _run(texts, list(reversed(keys)), 2) == batch


@SETTINGS
@given(st.integers(0, 10_000), st.integers(2, 4))
def test_identical_texts_always_cluster(seed: int, copies: int) -> None:
    texts = {f"c{i}": story(seed) for i in range(copies)}
    texts["other"] = story(seed + 1)
    got = _run(texts, sorted(texts), 1)
    assert len({got[f"c{i}"] for i in range(copies)}) == 1
    assert got["other"] != got["c0"]


@SETTINGS
@given(st.integers(0, 10_000), st.sampled_from(["(dpa)", "(dpa, AFP, Reuters)", "(afp)"]))
def test_furniture_and_credits_never_link(seed: int, credit: str) -> None:
    """Two unrelated stories on pages with the same furniture and credit stay apart."""
    texts = {
        "a": FURNITURE + story(seed) + f" {credit}\n" + FURNITURE,
        "b": FURNITURE + story(seed + 1) + f" {credit}\n" + FURNITURE,
    }
    got = _run(texts, ["a", "b"], 1)
    assert got["a"] != got["b"]


# Letters (with umlauts and accents), digits, `_`, spaces and the punctuation news text uses.
_NEWS_CHARS = st.sampled_from(
    list("abcxyzäöüßéèçñ019_ \t.,;:!?\"'()[]{}<>/\\|-+*=&%$#@^~`§°±×÷«»–—„“”‘’…•€²³µ·¹")
)


@given(st.text(_NEWS_CHARS, max_size=80))
def test_words_are_the_word_runs(line: str) -> None:
    """`words` (str.split over a translate table) finds what the regex `\\w+` finds."""
    import re

    from dedup.normalize import words

    assert words(line) == re.findall(r"\w+", line)


# Characters NFKC changes or reorders or composes: combining marks (after letters and
# after a line feed), compatibility forms, Hangul jamo, and line breaks of every kind.
_NFKC_CHARS = st.sampled_from(
    list("aeou\u00fc\u0308\u0301\u0323\u0327\u031b\ufb01\u2026\u00bd\u2460\u1100\u1161\u11a8\uac00")
    + list("\n\r\u2028\u0085\u000b\u00a0\u2011\u00b4\u2033 ")
)


@settings(max_examples=300, deadline=None)
@given(st.text(_NFKC_CHARS, max_size=40) | st.text(_NFKC_CHARS | st.characters(), max_size=60))
def test_nfkc_line_by_line_is_nfkc(text: str) -> None:
    """Normalizing only the lines not in NFKC gives the text's NFKC."""
    import unicodedata

    from dedup.normalize import _nfkc

    assert _nfkc(text) == unicodedata.normalize("NFKC", text)


# Characters that separate words although they are not ASCII (and some that do not).
_WIDE_CHARS = st.sampled_from(
    list("\xa0\x85\u2000\u200b\u2028\u202f\u3000\u1680€·«»×÷²µº\u2070\u2071")
)


@given(st.lists(st.text(_NEWS_CHARS | _WIDE_CHARS | st.characters(), max_size=60), max_size=6))
def test_batch_word_hashes_are_the_words_hashed_one_by_one(passages: list[str]) -> None:
    """`word_hashes` (a compiled loop over the batch's bytes) finds the words of
    `words` in every passage, whatever the characters, and hashes each as `word_hash`
    does."""
    from dedup.normalize import words
    from dedup.sketch import word_hash, word_hashes

    passages = [" ".join(p.splitlines()) for p in passages]  # passages are single lines
    hashes, counts = word_hashes(passages)
    assert counts.tolist() == [len(words(p)) for p in passages]
    assert hashes.tolist() == [word_hash(w) for p in passages for w in words(p)]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(st.sampled_from(["a", "b", "der", "dpa", "ü", "x1"]), max_size=14),
            st.lists(st.sampled_from(["a", "b", "der", "dpa", "ü", "x1"]), min_size=60, max_size=90),
        ),
        max_size=6,
    ),
    st.integers(1, 5),
)
def test_shingles_are_each_passages_k_grams_hashed(passages: list, k: int) -> None:  # type: ignore[type-arg]
    """A batch's shingles are, passage by passage, the unique hashes (`shingle_hash`)
    of its k-word windows in the order they first occur; passages under `min_words` are
    dropped. (Passages of a few words and of 60 to 90, with repeated words: repeats meet
    in the compiled kernel's table of the passage.)"""
    from dedup.sketch import shingle_batch, shingle_hash

    min_words = k + 1
    docs = [[" ".join(p) for p in passages[:3]], [" ".join(p) for p in passages[3:]]]
    batch = shingle_batch(docs, k, min_words)
    want = [
        list(dict.fromkeys(shingle_hash(p[i : i + k]) for i in range(len(p) - k + 1)))
        for p in passages
        if len(p) >= min_words
    ]
    starts = batch.passage_offsets.tolist()
    ends = [*starts[1:], len(batch.shingles)] if starts else []
    got = [batch.shingles[a:b].tolist() for a, b in zip(starts, ends, strict=True)]
    assert got == want
    assert batch.doc_passages.tolist() == [
        sum(len(p) >= min_words for p in passages[:3]),
        sum(len(p) >= min_words for p in passages[3:]),
    ]


def test_passage_shingles_drop_repeats_where_slots_collide() -> None:
    """Passages of many distinct shingles, each passage said twice over: the kernel's
    table (twice the longest passage) then holds values that share their low bits, so
    lookups probe past other values; what comes out is each passage's shingles once,
    in the order they first occur."""
    from dedup import kernels
    from dedup.sketch import _FOLD, _fmix

    rng = np.random.default_rng(7)
    k = 3
    passages = [rng.integers(0, 2**63, size=n, dtype=np.uint64) for n in (5, 90, 130, 40)]
    words = np.concatenate([np.concatenate([p, p]) for p in passages])
    lens = np.array([2 * len(p) for p in passages], dtype=np.int64)
    got, counts, marked = kernels.passage_shingles(words, lens, k, _FOLD, k)
    assert (marked ^ words).tolist() == [int(x) for n in lens for x in [1] + [0] * (n - 1)]
    want: list[int] = []
    for p in passages:
        w = np.concatenate([p, p])
        acc = [sum(int(w[i + j]) * int(_FOLD[j]) for j in range(k)) % 2**64 for i in range(len(w) - k + 1)]
        hashed = (_fmix(np.array(acc, dtype=np.uint64), 64) >> np.uint64(32)).tolist()
        unique = list(dict.fromkeys(hashed))
        assert len(unique) < len(hashed)  # the second saying repeats the first's shingles
        want.extend(unique)
    assert got.tolist() == want
    assert counts.sum() == len(want)
    # Low bits shared within a passage: the probing above was exercised.
    first = want[counts[0] : counts[0] + counts[1]]
    assert len({v & 255 for v in first}) < len(first)


def test_every_character_separates_words_as_words_does() -> None:
    """`word_hashes` finds the separators on UTF-8 bytes; `words` on characters."""

    from dedup.normalize import words
    from dedup.sketch import word_hashes

    passages = [f"a{chr(c)}b" for c in range(0x110000)]  # lone surrogates too
    _, counts = word_hashes(passages)
    assert counts.tolist() == [len(words(p)) for p in passages]


_LINE_BITS = st.sampled_from(
    [*"abcfmqtvxü:.!?()[]©", " ", "\t", "\xa0", "\u3000", "...", "…", "[…]", "[...]", "(12)", "(c) "]
    + ["alle rechte vorbehalten"]
)


@given(st.lists(_LINE_BITS | st.sampled_from(CREDIT_LABELS), max_size=12).map("".join))
def test_furniture_prefilters_agree_with_the_regexes(line: str) -> None:
    """`_furniture` runs its regexes only on lines that start or end suitably."""
    from dedup.normalize import CREDIT_LINE, TRUNCATED, _furniture

    line = line.strip()  # as `passage_texts` passes lines
    by_regex = bool(
        CREDIT_LINE.match(line)
        or "©" in line
        or "(c) " in line
        or TRUNCATED.search(line, max(0, len(line) - 24))
    )
    assert _furniture(line) == by_regex


@given(
    st.lists(
        st.lists(_LINE_BITS | st.sampled_from([*CREDIT_LABELS, "dpa", "wort"]), max_size=8).map(
            "".join
        ),
        max_size=10,
    ).map(lambda lines: lines + lines[:3]),  # some lines twice
    st.sampled_from(["\n", "\r\n", "\n\n", "\u2028"]),
    st.integers(2, 6),
)
def test_passages_are_the_lines_kept_one_by_one(lines: list[str], sep: str, max_words: int) -> None:
    """`passage_texts` (lines stripped, deduplicated and filtered in bulk) keeps what
    the rule says line by line: each stripped, non-empty line that is not furniture,
    at its first place, over-long ones cut at sentence ends into chunks of about
    max_words / 2 words (the words of each sentence found apart)."""
    import unicodedata

    from dedup.normalize import CREDIT_TAG, _furniture, _unify, passage_texts, words


    text = sep.join(lines)
    clean = CREDIT_TAG.sub(" ", _unify(unicodedata.normalize("NFKC", text)).lower())
    want: list[str] = []
    seen: set[str] = set()
    for line in clean.splitlines():
        line = line.strip()
        if not line or line in seen or _furniture(line):
            continue
        seen.add(line)
        ws = words(line)
        # (cut when it has over max_words words and as many spaces: words run together
        # by punctuation alone are not counted)
        if len(ws) > max_words and line.count(" ") >= max_words:
            want.extend(" ".join(c) for c in _chunks_by_sentence(line, max_words))
        else:
            want.append(line)
    assert passage_texts(text, max_words=max_words) == want


def _chunks_by_sentence(line: str, max_words: int) -> list[list[str]]:
    """The chunking rule said plainly: sentence after sentence (split at
    `SENTENCE_END`), each one's words found apart, a chunk closed once it holds
    max_words / 2; a last one under half of that joins the one before."""
    from dedup.normalize import SENTENCE_END, words

    target = max(1, max_words // 2)
    out: list[list[str]] = [[]]
    for sentence in SENTENCE_END.split(line):
        if len(out[-1]) >= target:
            out.append([])
        out[-1].extend(words(sentence))
    if len(out) > 1 and len(out[-1]) < target // 2:
        out[-2].extend(out.pop())
    return [c for c in out if c]


@given(
    st.lists(
        st.sampled_from(["wort", "ünd", "x1", "a_b", " ", "  ", "\u3000", "\xa0", ",", "-",
                         "„", "…", ". ", "! ", "? ", ".\u3000", "?!  ", "."]),
        min_size=1, max_size=80,
    ).map("".join),
    st.integers(2, 12),
)
def test_long_lines_are_cut_at_sentence_ends(line: str, max_words: int) -> None:
    """`normalize._chunks` finds every sentence's words in the line's spaced-out copy
    at once; the chunks are those of the rule said plainly."""
    from dedup.normalize import _NONWORD, _chunks

    line = line.strip()
    assert _chunks(line, line.translate(_NONWORD), max_words) == _chunks_by_sentence(line, max_words)


def test_whitespace_list_is_complete() -> None:
    from dedup.sketch import WHITESPACE

    assert set(WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_line_break_list_is_complete() -> None:
    from dedup.sketch import LINE_BREAKS

    assert set(LINE_BREAKS) == {chr(c) for c in range(0x110000) if len(f"a{chr(c)}b".splitlines()) == 2}


def test_credit_whitespace_is_str_isspace() -> None:
    """The compiled pass skips `str.isspace` characters between a credit label and its
    colon, where CREDIT_LINE's `\\s*` does."""
    import re

    assert all(bool(re.fullmatch(r"\s", chr(c))) == chr(c).isspace() for c in range(0x110000))


# Pieces of lines for the compiled pass: the ends and starts its rules look at, in
# every spelling they must tell apart, and characters of one to four bytes.
_TEXT_BITS = (
    _LINE_BITS
    | st.sampled_from([*CREDIT_LABELS, "Foto", "Von", "ALLE RECHTE", " rechte vorbehalten", "dpa"])
    | st.sampled_from(["(dpa)", "(c)", "(C) ", "©", "(", "c", ")", " (3)", "[..]", "..", "…)", "...)"])
    | st.sampled_from(["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u2028", "\u2029"])
    | st.sampled_from(["\x00", "\ud800", "\U0001f600", "\ufb01", "e\u0301", "„", "“", "–", "\u00ad", "²"])
    | st.sampled_from(["wort", "ünd", "satz. ", "ende! ", "wer? ", "\u3000", "\u2003", "\u202f", "x" * 30])
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.lists(_TEXT_BITS, max_size=40).map("".join), min_size=1, max_size=4)
    .map(lambda texts: texts + texts[:1]),  # (a text twice: lines repeat across texts)
    st.integers(2, 9),
)
def test_compiled_pass_keeps_the_passages_of_passage_texts(texts: list[str], max_words: int) -> None:
    """`sketch_texts` (one compiled pass over the batch's bytes, long lines cut at
    sentence ends there too, Python only for lines ending with ")") gives what the
    passages of `passage_texts`, line by line in Python, give: the same shingles per
    passage, passages per article and exact-duplicate hashes."""
    from dedup.normalize import passage_texts
    from dedup.params import Params
    from dedup.sketch import shingle_batch, sketch_texts

    params = Params(max_passage_words=max_words, min_passage_words=2, shingle_size=2)
    got = sketch_texts(texts, params)
    want = shingle_batch([passage_texts(t, max_words=max_words) for t in texts], 2, 2)
    assert got.shingles.tolist() == want.shingles.tolist()
    assert got.passage_offsets.tolist() == want.passage_offsets.tolist()
    assert got.doc_passages.tolist() == want.doc_passages.tolist()
    assert got.text_hashes == want.text_hashes


def test_repeated_lines_among_many_alike_are_dropped_once_each() -> None:
    """Lines of one length and the same ends, telling each other apart only in the
    middle (a table's rows), fill the compiled pass's table of lines seen, which grows
    as they come; each repeat is still found, and a key made of the words too keeps
    such lines from sharing one probe chain (keyed by their length and ends alone,
    20,000 of them took 3 s, growing with the square of their number)."""
    from dedup.normalize import passage_texts
    from dedup.params import Params
    from dedup.sketch import shingle_batch, sketch_texts

    lines = [f"Anfang vom {i:07d} Bericht mit dem Ende" for i in range(50_000)]
    text = "\n".join(lines[:30_000] + lines[:500] + lines[30_000:] + lines[-7:])
    params = Params(min_passage_words=2, shingle_size=2)
    got = sketch_texts([text], params)
    want = shingle_batch([passage_texts(text)], 2, 2)
    assert got.doc_passages.tolist() == want.doc_passages.tolist() == [50_000]
    assert got.shingles.tolist() == want.shingles.tolist()
    assert got.text_hashes == want.text_hashes


def test_a_line_of_more_sentence_ends_than_the_pass_notes_is_cut_in_python() -> None:
    """A line of more sentence ends than the compiled pass keeps a note of is left to
    Python, which cuts it as `passage_texts` does; one of fewer is cut in the pass."""
    from dedup import kernels
    from dedup.normalize import passage_texts
    from dedup.params import Params
    from dedup.sketch import _bytes_of, _text_words, shingle_batch, sketch_texts

    params = Params(max_passage_words=8, min_passage_words=2, shingle_size=2)
    for n in (kernels._MAX_ENDS - 1, kernels._MAX_ENDS + 5):
        text = "Kurz davor.\n" + " ".join(f"Satz {i} hier." for i in range(n)) + "\nEnde (2)"
        _, lines = _text_words(*_bytes_of([text.lower()]), 8, raw=False)
        assert lines[:, kernels.LINE_CHECK].sum() == (1 if n < kernels._MAX_ENDS else 2)
        got = sketch_texts([text], params)
        want = shingle_batch([passage_texts(text, max_words=8)], 2, 2)
        assert got.shingles.tolist() == want.shingles.tolist()
        assert got.doc_passages.tolist() == want.doc_passages.tolist() and got.doc_passages[0] > 1000
        assert got.text_hashes == want.text_hashes


# Shingle values from a narrow range, and values that share their low bits (they land
# in one slot of the kernel's hash table and have to be probed past).
_SHINGLE = st.integers(0, 40) | st.integers(0, 40).map(lambda x: x * 4096 + 7)


@st.composite
def _passage_docs(draw: st.DrawFn) -> list:  # type: ignore[type-arg]
    import numpy as np

    from dedup.sketch import Doc

    docs = []
    for i in range(draw(st.integers(2, 6))):
        # (some of over 63 passages: the matched ones are a bit mask past int64's bits)
        passages = draw(
            st.lists(st.sets(_SHINGLE, min_size=1, max_size=30), max_size=6)
            | st.lists(st.sets(_SHINGLE, min_size=1, max_size=3), min_size=60, max_size=70)
        )
        flat = [x for p in passages for x in sorted(p)]
        offsets = np.cumsum([0] + [len(p) for p in passages[:-1]]) if passages else []
        docs.append(
            Doc(f"d{i}", f"h{i}", np.array(flat, np.uint32), np.array(offsets, np.int64))
        )
    return docs


@settings(max_examples=300, deadline=None)
@given(_passage_docs(), st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_compiled_verification_equals_the_reference(docs: list, limit: float) -> None:  # type: ignore[type-arg]
    """`verify_pairs` (compiled) gives, pair by pair, what the numpy `verify` gives,
    with the matched passages and rule 1 it precomputes for the relation rules."""
    import dataclasses

    from dedup.params import Params
    from dedup.relations import Graph, Node, containment, copy_rule, matched_passages
    from dedup.sketch import unique
    from dedup.verify import verify, verify_pairs

    params = dataclasses.replace(Params(), passage_match=limit)
    sets = {d.id: unique(d.shingles) for d in docs}
    every = [(a, b) for i, a in enumerate(docs) for b in docs[i + 1 :] if len(a.shingles) and len(b.shingles)]
    got = verify_pairs(every, params)
    for (a, b), p in zip(every, got, strict=True):
        want = verify(a, b, params, sets)
        assert (p is None) == (want is None)
        if p is not None and want is not None:
            assert (p.a_hits, p.b_hits) == (want.a_hits, want.b_hits)
            # What it worked out in bulk for the relation rules equals the rules' own
            # arithmetic on the pair's hits.
            na = Node(a.id, a.text_hash, tuple(a.passage_sizes()))
            nb = Node(b.id, b.text_hash, tuple(b.passage_sizes()))
            for node, hits in ((na, want.a_hits), (nb, want.b_hits)):
                assert p.matched(node, params) == matched_passages(node, hits, params)
            raw = copy_rule(containment(na, want.a_hits), containment(nb, want.b_hits), params)
            assert p.copy0(Graph(nodes={a.id: na, b.id: nb}), params) == raw


@given(st.sets(st.integers(0, 300)))
def test_passage_masks_round_trip(passages: set[int]) -> None:
    from dedup.relations import mask_of, passages_of

    assert passages_of(mask_of(passages)) == sorted(passages)

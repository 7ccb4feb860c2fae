"""Unit and integration tests of dedup/: normalization, signatures, params, incremental runs."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from crawler.store import Store
from dedup.normalize import passages
from dedup.params import Params
from dedup.sketch import lean_minhash, passage_signatures, sketch_texts
from newsdedup.cli import cli

ROOT = Path(__file__).resolve().parent.parent

WORDS = [
    "regierung",
    "bundestag",
    "minister",
    "erklärte",
    "gestern",
    "berlin",
    "zahlen",
    "prozent",
    "wirtschaft",
    "kritik",
    "opposition",
    "gesetz",
    "entwurf",
    "sprecher",
    "polizei",
    "stadt",
    "menschen",
    "woche",
    "jahr",
    "million",
    "euro",
    "verband",
    "forderung",
    "pläne",
    "einigung",
    "streit",
    "koalition",
    "länder",
    "kommission",
    "bericht",
    "studie",
    "ergebnis",
    "schule",
]


def story(seed: int, paragraphs: int = 5, words: int = 40) -> str:
    """A German-like article: paragraphs of random words, unique to `seed`."""
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(f"{rng.choice(WORDS)}{rng.randrange(10_000)}" for _ in range(words)) + "."
        for _ in range(paragraphs)
    )


def make_db(path: Path, texts: dict[str, str]) -> sqlite3.Connection:
    with Store(path) as s:
        s.upsert_articles(
            {"url": f"https://example.org/{k}", "outlet": "t", "text": v} for k, v in texts.items()
        )
    return sqlite3.connect(str(path), isolation_level=None)


def clusters_by_url(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT a.url, m.cluster_id FROM cluster_members m JOIN articles a ON a.id = m.article_id"
    )
    return {url.rsplit("/", 1)[1]: cid for url, cid in rows}


def test_furniture_and_credits_are_dropped() -> None:
    text = (
        "Zur Startseite\n"
        "© IMAGO/SNA/IMAGO/Stanislav Krasilnikov\n"
        "Foto: picture alliance/dpa mit einer langen Bildunterschrift aus vielen Wörtern hier\n"
        "Weitere Nachrichten aus aller Welt und der Region finden Sie hier jeden Tag […] (02)\n"
        "Berlin (dpa) - Der Bundestag hat am Donnerstag nach langer Debatte das Gesetz beschlossen.\n"
    )
    out = passages(text)
    assert out == [
        "berlin der bundestag hat am donnerstag nach langer debatte das gesetz beschlossen".split()
    ]


def test_quotes_dashes_and_case_are_unified() -> None:
    a = passages("„Das ist gut“ – sagte der Minister am Montag in Berlin vor Journalisten.")
    b = passages('"das ist gut" - sagte der minister am montag in berlin vor journalisten.')
    assert a == b


def test_unify_equals_translate_over_every_character() -> None:
    from dedup.normalize import _UNIFY, _unify

    table = str.maketrans(_UNIFY)
    chars = [chr(c) for c in range(0x110000)]
    assert [_unify(c) for c in chars] == [c.translate(table) for c in chars]
    text = "x".join(chars)
    assert _unify(text) == text.translate(table)


def test_nonword_regex_equals_translate_over_every_character() -> None:
    """The regex class `words` and the chunking use marks what the `_NONWORD` table does."""
    from dedup.normalize import _NONWORD, _NONWORD_RE

    chars = [chr(c) for c in range(0x110000)]
    assert [_NONWORD_RE.sub(" ", c) for c in chars] == [c.translate(_NONWORD) for c in chars]
    text = "".join(chars)
    assert _NONWORD_RE.sub(" ", text) == text.translate(_NONWORD)


def test_lower_equals_str_lower() -> None:
    """The byte table lower-cases as `str.lower` does: every Latin-1 character, Latin-1
    text, and text with wider characters that it leaves to `str.lower`."""
    from dedup.normalize import _lower

    latin1 = "".join(chr(c) for c in range(256))
    assert [_lower(c) for c in latin1] == [c.lower() for c in latin1]
    wide = latin1 + "\u0130\u1e9e\u03a3\u0416"  # İ (two characters lower), ẞ, Σ, Ж
    for text in (latin1, "ÄRGER Über Öl", "\u201eÄRGER\u201c \u2013 Über", wide, "ASCII Only"):
        assert _lower(text) == text.lower()
        assert type(_lower(text)) is str


def test_lone_surrogates_are_text_not_errors() -> None:
    """Broken JSON escapes leave lone surrogates in page text: they must not crash."""
    from dedup.normalize import passage_texts
    from dedup.sketch import word_hash, word_hashes

    line = "der minister sprach \ud800 gestern in berlin vor vielen journalisten x\udfffy"
    assert passage_texts(line.title()) == [line]
    hashes, counts = word_hashes([line])
    assert hashes.tolist() == [word_hash(w) for w in line.split()]
    assert counts.tolist() == [len(line.split())]
    batch = sketch_texts([line, line.replace("\ud800", "\ufffd")], Params())
    assert batch.doc_passages.tolist() == [1, 1]
    assert batch.text_hashes[0] != batch.text_hashes[1]


def test_signature_equals_datasketch_minhash() -> None:
    params = Params(num_perm=30, bands=10, rows=3)
    batch = sketch_texts([story(1), story(2)], params)
    (doc,) = batch.docs(["x", "y"])[1:]
    sigs = passage_signatures(batch.shingles, batch.passage_offsets, params)[5:]
    start, end = doc.offsets[1], doc.offsets[2]
    m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=lambda v: v, scheme="affine32")
    m.update_batch([int(v) for v in doc.shingles[start:end]])
    assert np.array_equal(m.hashvalues, sigs[1])
    lean = lean_minhash(sigs[1], params)
    assert lean.jaccard(lean_minhash(sigs[1], params)) == 1.0


def test_bad_banding_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="must be at most num_perm"):
        Params(num_perm=16, bands=10, rows=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"copy_threshold": 7}, "copy_threshold is a share of shingles, from 0 to 1"),
        ({"contain_threshold": -0.1}, "contain_threshold is a share"),
        ({"passage_match": 1.5}, "passage_match is a share"),
        ({"max_bucket": 1}, "max_bucket must be at least 2"),
        ({"background_groups": 1}, "background_groups must be at least 2"),
        ({"num_perm": 0, "bands": 0}, "num_perm must be at least 1"),
        ({"max_passage_words": 6}, "max_passage_words \\(6\\) must be at least min_passage_words"),
    ],
)
def test_parameters_out_of_range_are_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Params(**kwargs)
    db = tmp_path / "n.db"
    with Store(db):
        pass
    result = CliRunner().invoke(
        cli, ["dedup", "--db", str(db), "--rebuild",
              *(x for k, v in kwargs.items() for x in (f"--{k.replace('_', '-')}", str(v)))]
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert re.search(message, result.output), result.output
    assert Params(copy_threshold=0.0, passage_match=1.0, max_bucket=2).max_bucket == 2  # the bounds


def test_params_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    conn = make_db(tmp_path / "n.db", {"a": story(1), "b": story(2)})
    dedup.update(conn)
    with pytest.raises(dedup.ParamsMismatch, match="newsdedup dedup --rebuild"):
        dedup.update(conn, copy_threshold=0.3)
    summary = dedup.rebuild(conn, copy_threshold=0.3)
    assert summary["indexed"] == 2
    dedup.update(conn, copy_threshold=0.3)  # the recorded params are accepted
    with pytest.raises(TypeError, match="unknown dedup parameter"):
        dedup.update(conn, shingle_sise=4)


def test_a_database_of_an_older_sketch_version_is_told_to_rebuild(tmp_path: Path) -> None:
    """A database indexed by an older newsdedup (here sketch 1, which hashed words with
    xxh3) is refused with what to do, not with options it cannot take; `rebuild` then
    indexes it as new."""
    conn = make_db(tmp_path / "n.db", {"a": story(1), "b": story(2)})
    dedup.update(conn)
    conn.execute("UPDATE dedup_params SET value = '1' WHERE name = 'sketch'")
    with pytest.raises(dedup.ParamsMismatch) as err:
        dedup.update(conn)
    assert str(err.value) == (
        "this database was deduplicated by an older version of newsdedup (sketch version 1, now 2); "
        "rebuild with `newsdedup dedup --rebuild` (the articles are kept)"
    )
    assert dedup.rebuild(conn)["indexed"] == 2
    assert conn.execute("SELECT value FROM dedup_params WHERE name = 'sketch'").fetchone() == ("2",)


def test_a_database_that_stored_shingles_is_told_to_rebuild(tmp_path: Path) -> None:
    """A database indexed before shingles were made again from the texts (its
    `dedup_signatures` has a `shingle_hashes` column; `dedup_params` records no store
    version) is refused with what to do; `rebuild` makes the table anew without them."""
    conn = make_db(tmp_path / "n.db", {"a": story(1), "b": story(2)})
    dedup.update(conn)
    conn.execute("DELETE FROM dedup_params WHERE name = 'store'")
    conn.execute("ALTER TABLE dedup_signatures ADD COLUMN shingle_hashes BLOB")
    with pytest.raises(dedup.ParamsMismatch) as err:
        dedup.update(conn)
    assert "(store version 1, now 2); rebuild with `newsdedup dedup --rebuild`" in str(err.value)
    assert dedup.rebuild(conn)["indexed"] == 2
    columns = [r[1] for r in conn.execute("PRAGMA table_info(dedup_signatures)")]
    assert "shingle_hashes" not in columns


def test_an_indexed_article_changed_by_another_writer_mid_update_is_not_verified_by_its_new_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shingles of indexed articles are made again from their texts. An article changed
    after this update withdrew the stale ones (another writer, between two transactions)
    still has the entries of its old text in the index: a new copy of that old text
    finds it, but its text is no longer the one indexed, so it is not verified against
    it (its passages are not those its stored sizes and flags count). The next update
    withdraws it and indexes it anew: the same as a fresh build."""
    from dedup.store import DedupStore

    old = story(1)
    paragraphs = old.split("\n\n")
    # The new text: two paragraphs of its own first, so that the old ones are passages 2-6.
    changed = "\n\n".join([*story(2).split("\n\n")[:2], *paragraphs])
    conn = make_db(tmp_path / "a.db", {"a": old, "z": story(3)})
    dedup.update(conn)
    conn.execute("UPDATE articles SET text = ? WHERE url = 'https://example.org/a'", [changed])
    with Store(tmp_path / "a.db") as s:
        s.upsert_articles([{"url": "https://example.org/b", "outlet": "t", "text": old}])
    monkeypatch.setattr(DedupStore, "stale_articles", lambda self, limit: {})  # (the race)
    dedup.update(conn)
    assert conn.execute("SELECT COUNT(*) FROM dedup_pairs").fetchone() == (0,)
    monkeypatch.undo()
    dedup.update(conn)
    fresh = make_db(tmp_path / "fresh.db", {"a": changed, "z": story(3), "b": old})
    dedup.update(fresh)
    assert _derived_tables(conn) == _derived_tables(fresh)
    assert clusters_by_url(conn)["a"] == clusters_by_url(conn)["b"]


def test_an_indexed_article_whose_text_now_normalizes_otherwise_is_indexed_anew(
    tmp_path: Path,
) -> None:
    """An indexed article whose unchanged text no longer gives the words it was indexed
    with (normalized by a newsdedup whose `dedup.normalize` differed: here its recorded
    text hash is changed) is not verified by shingles its index entries do not come
    from; it is queued again, and the next update indexes it anew: then the same as a
    fresh build."""
    old = story(1)
    near = "\n\n".join([*old.split("\n\n")[:-1], story(4).split("\n\n")[0]])  # a near copy
    conn = make_db(tmp_path / "a.db", {"a": old, "z": story(3)})
    dedup.update(conn)
    conn.execute("UPDATE dedup_signatures SET text_hash = 'elsewhere' WHERE article_id = "
                 "(SELECT id FROM articles WHERE url = 'https://example.org/a')")
    with Store(tmp_path / "a.db") as s:
        s.upsert_articles([{"url": "https://example.org/b", "outlet": "t", "text": near}])
    dedup.update(conn)
    assert conn.execute("SELECT COUNT(*) FROM dedup_pairs").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM dedup_queue").fetchone() == (1,)
    dedup.update(conn)
    fresh = make_db(tmp_path / "fresh.db", {"a": old, "z": story(3), "b": near})
    dedup.update(fresh)
    assert _derived_tables(conn) == _derived_tables(fresh)
    assert clusters_by_url(conn)["a"] == clusters_by_url(conn)["b"]


def test_copies_cluster_and_ticker_becomes_container(tmp_path: Path) -> None:
    a, b, c = story(1), story(2), story(3)
    lead_a = "\n\n".join(a.split("\n\n")[:2])
    lead_b = "\n\n".join(b.split("\n\n")[:2])
    texts = {
        "a1": a,
        "a2": a.replace("gestern", "heute") + "\n\n" + story(10, 1),
        "b1": b,
        "b2": b + "\n\n" + story(11, 1),
        "c1": c,
        "ticker": "\n\n".join([lead_a, story(20, 2), lead_b, story(21, 2)]),
    }
    conn = make_db(tmp_path / "n.db", texts)
    dedup.update(conn)
    got = clusters_by_url(conn)
    assert got["a1"] == got["a2"] and got["b1"] == got["b2"]
    assert len({got["a1"], got["b1"], got["c1"], got["ticker"]}) == 4
    links = conn.execute(
        "SELECT a.url, c.cluster_id FROM cluster_containers c JOIN articles a ON a.id = c.container_id"
    ).fetchall()
    assert sorted(cid for url, cid in links if url.endswith("ticker")) == sorted(
        [got["a1"], got["b1"]]
    )


def test_incremental_equals_batch(tmp_path: Path) -> None:
    base = {f"s{i}": story(i) for i in range(6)}
    texts = dict(base)
    texts.update({f"s{i}copy": base[f"s{i}"] + "\n\n" + story(100 + i, 1) for i in range(3)})
    texts["dup"] = base["s4"]
    one = make_db(tmp_path / "one.db", texts)
    dedup.update(one)
    many = make_db(tmp_path / "many.db", {})
    store = Store(tmp_path / "many.db")
    for key in sorted(texts, reverse=True):
        store.upsert_articles(
            [{"url": f"https://example.org/{key}", "outlet": "t", "text": texts[key]}]
        )
        dedup.update(many)
    assert clusters_by_url(one) == clusters_by_url(many)
    got = clusters_by_url(one)
    assert got["dup"] == got["s4"]
    dup_of = one.execute(
        "SELECT exact_duplicate_of FROM cluster_members m JOIN articles a ON a.id = m.article_id "
        "WHERE a.url LIKE '%/dup' OR a.url LIKE '%/s4'"
    ).fetchall()
    assert sorted(r[0] is None for r in dup_of) == [False, True]


def _derived_tables(conn: sqlite3.Connection) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    return {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
        for t in ("clusters", "cluster_members", "dedup_contains")
    } | {
        "pairs": conn.execute(
            "SELECT a, b, a_share, b_share, a_hits, b_hits FROM dedup_pairs ORDER BY 1, 2"
        ).fetchall(),
        "flags": conn.execute(
            "SELECT article_id, background0, is_container, background FROM dedup_signatures ORDER BY 1"
        ).fetchall(),
    }


def test_commit_windows_give_every_table_of_one_batch(tmp_path: Path) -> None:
    """3,000 synthetic articles with tickers (bench/gen_corpus.py), indexed in windows of
    150 or in one: every derived table is the same, and each cluster counts exactly the
    containers linked to it. (Windows of 150 once left a count stale: a container's
    link to a cluster outside the recomputed region was dropped, its count kept.)"""
    from bench.gen_corpus import generate

    rows = list(generate(3000, seed=1))
    got = {}
    for name, kwargs in (("one", {}), ("windows", {"commit_every": 150, "batch_size": 100})):
        store = Store(tmp_path / f"{name}.db")
        store.upsert_articles(rows)
        store.close()
        conn = sqlite3.connect(str(tmp_path / f"{name}.db"), isolation_level=None)
        dedup.update(conn, **kwargs)
        stale = conn.execute(
            "SELECT COUNT(*) FROM clusters c WHERE containers != (SELECT COUNT(DISTINCT "
            "container_id) FROM dedup_contains x WHERE x.cluster_id = c.cluster_id)"
        ).fetchone()[0]
        assert stale == 0, name
        got[name] = _derived_tables(conn)
        conn.close()
    assert len(got["one"]["dedup_contains"]) > 100  # tickers were linked
    assert got["windows"] == got["one"]


@pytest.mark.parametrize("purge_share", [0.0, 0.1, 1.0])
def test_changed_and_deleted_articles_leave_what_a_fresh_build_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, purge_share: float
) -> None:
    """After texts change (an upsert), articles are deleted and one is REPLACEd, the next
    update withdraws them from the index and indexes the changed ones anew: every table
    is what indexing the final articles from scratch gives. Whether withdrawn entries
    leave the segments at once (share 0), never (1) or past a tenth of the index."""
    import random

    from bench.gen_corpus import generate
    from dedup import lsh

    monkeypatch.setattr(lsh, "PURGE_SHARE", purge_share)

    rows = list(generate(1500, seed=4))
    rnd = random.Random(4)
    changed = [dict(x) for x in rnd.sample(rows, 150)]
    for x in changed:
        other = rnd.choice(rows)["text"]
        x["text"] = rnd.choice([other, x["text"][: len(x["text"]) // 2], x["text"] + "\n\n" + other])
    gone = [x["url"] for x in rnd.sample(rows, 75)]
    final = {x["url"]: x for x in rows} | {x["url"]: x for x in changed}
    for url in gone:
        del final[url]

    with Store(tmp_path / "inc.db") as s:
        s.upsert_articles(rows)
    inc = sqlite3.connect(str(tmp_path / "inc.db"), isolation_level=None)
    dedup.update(inc, commit_every=400, batch_size=100)
    with Store(tmp_path / "inc.db") as s:
        s.upsert_articles(changed)
    inc.executemany("DELETE FROM articles WHERE url = ?", [(u,) for u in gone])
    inc.execute(
        "REPLACE INTO articles (id, url, outlet, text, published) "
        "SELECT id, url, outlet, text, published FROM articles WHERE url = ?",
        [sorted(final)[0]],
    )
    # (in transactions of 60: the withdrawal too takes several)
    summary = dedup.update(inc, commit_every=60, batch_size=20)
    assert summary["withdrawn"] > 150  # the changed, deleted and replaced ones that were indexed
    kept = inc.execute("SELECT COALESCE(SUM(entries), 0) FROM dedup_lsh_withdrawn").fetchone()[0]
    assert (kept > 0) == (purge_share > 0)

    with Store(tmp_path / "fresh.db") as s:
        s.upsert_articles(final.values())
    fresh = sqlite3.connect(str(tmp_path / "fresh.db"), isolation_level=None)
    dedup.update(fresh)
    assert _derived_tables(inc) == _derived_tables(fresh)
    assert inc.execute("SELECT COUNT(*) FROM dedup_gone").fetchone()[0] == 0


@pytest.mark.parametrize("purge_share", [0.0, 1.0])
def test_a_deleted_article_takes_its_bucket_back_under_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, purge_share: float
) -> None:
    """Four articles share a paragraph, a bucket over max_bucket=3: it proposes no pairs.
    Deleting one brings it back within the bound, and the other three pair as they would
    had the fourth never been there (its entries left in the segments or not)."""
    from dedup import lsh

    monkeypatch.setattr(lsh, "PURGE_SHARE", purge_share)
    shared = story(999, 1)
    texts = {f"t{i}": story(i, 3) + "\n\n" + shared for i in range(4)}
    inc = make_db(tmp_path / "inc.db", texts)
    dedup.update(inc, max_bucket=3)
    assert inc.execute("SELECT COUNT(*) FROM dedup_pairs").fetchone()[0] == 0
    inc.execute("DELETE FROM articles WHERE url LIKE '%/t3'")
    assert dedup.update(inc, max_bucket=3)["withdrawn"] == 1
    fresh = make_db(tmp_path / "fresh.db", {k: v for k, v in texts.items() if k != "t3"})
    dedup.update(fresh, max_bucket=3)
    assert inc.execute("SELECT COUNT(*) FROM dedup_pairs").fetchone()[0] == 3
    assert _derived_tables(inc) == _derived_tables(fresh)


def test_hot_buckets_give_the_same_pairs_whatever_the_batching(tmp_path: Path) -> None:
    """A bucket that turns hot mid-way takes back its pairs, as if it had always been hot."""
    shared = story(999, 1)
    texts = {f"t{i}": story(i, 3) + "\n\n" + shared for i in range(5)}
    texts["copy"] = texts["t0"]
    one = make_db(tmp_path / "one.db", texts)
    dedup.update(one, max_bucket=3)
    many = make_db(tmp_path / "many.db", {})
    store = Store(tmp_path / "many.db")
    for key in sorted(texts):
        store.upsert_articles([{"url": f"https://example.org/{key}", "outlet": "t", "text": texts[key]}])
        dedup.update(many, max_bucket=3)

    def pairs(c: sqlite3.Connection) -> list[tuple]:
        return c.execute("SELECT * FROM dedup_pairs ORDER BY a, b").fetchall()

    assert pairs(one) == pairs(many)
    assert clusters_by_url(one) == clusters_by_url(many)


def test_pending_articles_are_paged_by_publication_without_gaps(tmp_path: Path) -> None:
    """Pages follow publication time (undated first) and lose no article to ties."""
    rows = [
        {"url": f"https://example.org/{i}", "outlet": "t", "text": story(i, 2),
         "published": None if i % 4 == 0 else f"2025-01-0{1 + i % 3}T10:00:00+00:00"}
        for i in range(23)
    ]
    with Store(tmp_path / "p.db") as s:
        s.upsert_articles(rows)
    conn = sqlite3.connect(str(tmp_path / "p.db"), isolation_level=None)
    from dedup.store import DedupStore

    DedupStore(conn).ensure_schema()  # queues the articles stored before

    store, after, seen = DedupStore(conn), None, []
    while True:
        page, after = store.pending_articles(2, after)
        if not page:
            break
        seen.extend(page)
    assert len(seen) == 23 and len({r[0] for r in seen}) == 23
    published = [r[2] for r in seen]
    undated = published.count(None)
    assert published[:undated] == [None] * undated and None not in published[undated:]
    assert published[undated:] == sorted(published[undated:])
    conn.close()
    # And a run in tiny batches and windows indexes every one of them.
    conn = make_db(tmp_path / "q.db", {})
    with Store(tmp_path / "q.db") as s:
        s.upsert_articles(rows)
    dedup.update(conn, batch_size=2, commit_every=4)
    assert conn.execute("SELECT COUNT(*) FROM dedup_signatures").fetchone()[0] == 23
    assert conn.execute("SELECT COUNT(*) FROM dedup_queue").fetchone()[0] == 0


def test_same_text_finds_every_holder_of_a_shared_text_and_no_lone_one(tmp_path: Path) -> None:
    """`DedupStore.same_text` answers from the text_hash index: the articles of each
    text held by two or more (all of them), none for a text only one article has."""
    from dedup.store import DedupStore

    texts = {"a": story(1), "b": story(1), "c": story(1), "d": story(2), "e": story(3)}
    conn = make_db(tmp_path / "s.db", texts)
    dedup.update(conn)
    url_of = dict(conn.execute("SELECT id, url FROM articles").fetchall())
    hash_of = dict(conn.execute("SELECT article_id, text_hash FROM dedup_signatures").fetchall())
    by_url = {url_of[i].rsplit("/", 1)[1]: h for i, h in hash_of.items()}
    got = DedupStore(conn).same_text({by_url["a"], by_url["d"], "no such text"})
    assert sorted((url_of[i].rsplit("/", 1)[1], h) for i, h in got) == [
        ("a", by_url["a"]), ("b", by_url["a"]), ("c", by_url["a"])
    ]
    assert DedupStore(conn).same_text(set()) == []


def test_the_queue_holds_exactly_the_articles_not_indexed(tmp_path: Path) -> None:
    """Articles stored before dedup first ran, inserted since, re-stored (an upsert),
    re-dated or deleted: the queue follows each, and a rebuild queues every article."""
    from dedup.store import DedupStore

    def article(i: int, published: str | None = None) -> dict:
        return {"url": f"https://example.org/{i}", "outlet": "t", "text": story(i, 2),
                "published": published}

    store = Store(tmp_path / "q.db")
    store.upsert_articles([article(0), article(1)])
    conn = sqlite3.connect(str(tmp_path / "q.db"), isolation_level=None)

    def queued() -> list[str]:
        rows = conn.execute(
            "SELECT a.url FROM dedup_queue q JOIN articles a ON a.id = q.article_id"
        ).fetchall()
        return sorted(r[0].rsplit("/", 1)[1] for r in rows)

    def pending() -> list[str]:
        page, _ = DedupStore(conn).pending_articles(100)
        urls = dict(conn.execute("SELECT id, url FROM articles").fetchall())
        return [urls[r[0]].rsplit("/", 1)[1] for r in page]

    DedupStore(conn).ensure_schema()
    assert queued() == ["0", "1"]
    dedup.update(conn)
    assert queued() == [] and pending() == []
    store.upsert_articles([article(1), article(2, "2025-01-02T00:00:00+00:00")])  # 1 again, 2 new
    store.upsert_articles([article(3, "2025-01-03T00:00:00+00:00")])
    assert queued() == ["2", "3"]
    # A later date moves 2 behind 3; a deleted article leaves the queue.
    conn.execute("UPDATE articles SET published = '2025-01-04T00:00:00+00:00' WHERE url LIKE '%/2'")
    assert pending() == ["3", "2"]
    conn.execute("DELETE FROM articles WHERE url LIKE '%/3'")
    assert pending() == ["2"]
    dedup.update(conn)
    assert queued() == [] and conn.execute("SELECT COUNT(*) FROM dedup_signatures").fetchone()[0] == 3
    # REPLACE deletes without the delete trigger and inserts: 1 is queued again, and
    # indexed anew; so is an article whose text an upsert changes (not one it rewrites
    # with the same values, as above).
    conn.execute(
        "REPLACE INTO articles (id, url, outlet, text) "
        "SELECT id, url, outlet, text FROM articles WHERE url LIKE '%/1'"
    )
    assert queued() == ["1"]
    store.upsert_articles([{**article(0), "text": story(7, 2)}])
    assert queued() == ["0", "1"]
    # Both are still indexed: not pending (another writer may change an article after an
    # update withdrew the stale ones; it waits for the next update's withdrawal).
    assert pending() == []
    assert dedup.update(conn)["withdrawn"] == 2
    assert queued() == [] and conn.execute("SELECT COUNT(*) FROM dedup_signatures").fetchone()[0] == 3
    dedup.rebuild(conn)
    assert queued() == [] and conn.execute("SELECT COUNT(*) FROM dedup_signatures").fetchone()[0] == 3
    DedupStore(conn).drop()
    DedupStore(conn).ensure_schema()
    assert queued() == ["0", "1", "2"]
    store.close()
    conn.close()


def _edited_twin(paragraph: str) -> str:
    """`paragraph` with one word replaced, chosen so that some of its LSH keys stay the
    paragraph's and some do not (the edit removed a minimum shingle)."""
    params = Params()
    words = paragraph.split()

    def keys(text: str) -> set[int]:
        from dedup.sketch import band_keys

        batch = sketch_texts([text], params)
        sig = passage_signatures(batch.shingles, batch.passage_offsets, params)
        return set(band_keys(sig, params).ravel().tolist())

    mine = keys(paragraph)
    for at in range(10, len(words) - 10):
        edited = " ".join([*words[:at], "geändert", *words[at + 1 :]])
        theirs = keys(edited)
        if mine & theirs and theirs - mine:
            return edited
    raise AssertionError("no edit changes some keys and keeps others")


def test_edited_copies_of_hot_boilerplate_propose_no_pairs(tmp_path: Path) -> None:
    """Two unrelated stories ending in the same lightly edited standard paragraph meet
    in a small bucket of their own; once the paragraph's other buckets are hot, that
    bucket proposes nothing either, whatever the order the articles came in."""
    standard = story(999, 1)
    edited = _edited_twin(standard)
    texts = {f"std{i}": story(i, 3) + "\n\n" + standard for i in range(4)}
    texts.update({f"ed{i}": story(50 + i, 3) + "\n\n" + edited for i in range(2)})

    def pairs(c: sqlite3.Connection) -> list[tuple]:
        return c.execute(
            "SELECT ua.url, ub.url FROM dedup_pairs p JOIN articles ua ON ua.id = p.a "
            "JOIN articles ub ON ub.id = p.b ORDER BY 1, 2"
        ).fetchall()

    def ed_pair(c: sqlite3.Connection) -> bool:
        return any({a[-4:], b[-4:]} == {"/ed0", "/ed1"} for a, b in pairs(c))

    roomy = make_db(tmp_path / "roomy.db", texts)
    dedup.update(roomy, max_bucket=100)
    assert ed_pair(roomy)  # with no hot bucket the shared paragraph pairs them
    one = make_db(tmp_path / "one.db", texts)
    dedup.update(one, max_bucket=3)
    assert not ed_pair(one) and pairs(one) == []
    # The edited pair first (paired: nothing is hot yet), then the standard copies turn
    # the paragraph's buckets hot and the pair is taken back.
    late = make_db(tmp_path / "late.db", {})
    store = Store(tmp_path / "late.db")
    for key in ["ed0", "ed1", "std0", "std1", "std2", "std3"]:
        store.upsert_articles([{"url": f"https://example.org/{key}", "outlet": "t", "text": texts[key]}])
        dedup.update(late, max_bucket=3)
        if key == "ed1":
            assert ed_pair(late)
    assert pairs(late) == pairs(one)
    assert clusters_by_url(late) == clusters_by_url(one)


def test_batch_verification_equals_pairwise() -> None:
    """`verify_pairs` gives, for each pair, what `verify` gives for it alone."""
    from dedup.sketch import unique
    from dedup.verify import verify, verify_pairs

    params = Params()
    base = story(7, paragraphs=6)
    texts = [
        base,
        base.rsplit("\n\n", 2)[0],  # cut from the bottom
        story(8) + "\n\n" + base.split("\n\n")[0],  # another story quoting its lead
        story(9),  # unrelated
        "\n\n".join(reversed(base.split("\n\n"))),  # the same paragraphs reordered
        "",
    ]
    ids = [f"id{i}" for i in range(len(texts))]
    docs = sketch_texts(texts, params).docs(ids)
    sets = {d.id: unique(d.shingles) for d in docs}
    every = [
        (a, b)
        for i, a in enumerate(docs)
        for b in docs[i + 1 :]
        if len(a.shingles) and len(b.shingles)
    ]
    got = verify_pairs(every, params)
    for (a, b), p in zip(every, got, strict=True):
        want = verify(a, b, params, sets)
        assert (p is None) == (want is None), (a.id, b.id)
        if p is not None and want is not None:
            assert (p.a_hits, p.b_hits) == (want.a_hits, want.b_hits)
            # passages ascending: stored as JSON in this order (`engine._hits_json`)
            assert list(p.a_hits) == sorted(p.a_hits) and list(p.b_hits) == sorted(p.b_hits)
    assert got[0] is not None and got[2] is None  # the cut copy is found, the unrelated not

    # The kept pairs' hits as arrays (for the compiled rules) are the same as their dicts.
    from dedup.verify import verify_indexed

    number = {d.id: k for k, d in enumerate(docs)}
    a = np.array([number[x.id] for x, _ in every], dtype=np.int64)
    b = np.array([number[y.id] for _, y in every], dtype=np.int64)
    _, kept, _, _, (h_n, h_pass, h_count) = verify_indexed(docs, a, b, params)
    assert len(kept) > 2 and len(h_n) == 2 * len(kept)
    at = np.cumsum(h_n) - h_n
    for k, p in enumerate(kept):
        for side, hits in ((2 * k, p.a_hits), (2 * k + 1, p.b_hits)):
            s, e = at[side], at[side] + h_n[side]
            assert dict(zip(h_pass[s:e].tolist(), h_count[s:e].tolist(), strict=True)) == hits


def test_pair_hits_are_stored_as_json_says() -> None:
    """`_hits_json` writes what `json.dumps` writes, for any numbers (a side without
    hits, zero, one digit, many)."""
    import json

    from dedup.engine import _hits, _hits_json

    sides = [{}, {0: 1}, {1: 12, 3: 1023}, {2: 1024}, {}, {255: 7, 256: 3}, {9: 10**6}]
    sides += [{0: 0, 10: 9, 99: 10, 100: 2**62}]
    arrays = (
        np.array([len(h) for h in sides], dtype=np.int64),
        np.array([k for h in sides for k in h], dtype=np.int64),
        np.array([v for h in sides for v in h.values()], dtype=np.int64),
    )
    texts = _hits_json(arrays)
    assert texts == [json.dumps({str(k): v for k, v in h.items()}) for h in sides]
    assert [_hits(t) for t in texts] == sides
    # Passage sizes are stored as JSON lists the same way.
    from dedup.engine import _lines
    from dedup.kernels import json_lines

    lists = [[], [0], [7, 10, 99], [], [100, 12345, 2**40]]
    flat = np.array([v for x in lists for v in x], dtype=np.int64)
    counts = np.array([len(x) for x in lists], dtype=np.int64)
    got = _lines(json_lines(counts, flat, flat, False))
    assert got == [json.dumps(x) for x in lists]


def test_verification_reads_shingles_where_the_arena_holds_them() -> None:
    """Batches taken into an `Arena` (one array for a window) are verified in place, not
    copied: the array verification reads is the arena's. The pairs equal those of the
    same articles sketched without one; across two arenas (a batch that did not fit)
    verification copies, with the same pairs."""
    from dedup.sketch import Arena, unique_segments
    from dedup.verify import verify_pairs

    params = Params()
    base = story(7, paragraphs=6)
    texts = [
        base,
        base.rsplit("\n\n", 2)[0],
        story(8) + "\n\n" + base.split("\n\n")[0],
        story(9),
        "\n\n".join(reversed(base.split("\n\n"))),
        story(10),
    ]
    ids = [f"id{i}" for i in range(len(texts))]

    def every(docs: list[Any]) -> list[Any]:
        return [(a, b) for i, a in enumerate(docs) for b in docs[i + 1 :]]

    def hits(got: list[Any]) -> list[Any]:
        return [None if p is None else (p.a, p.b, p.a_hits, p.b_hits) for p in got]

    want = hits(verify_pairs(every(sketch_texts(texts, params).docs(ids)), params))
    assert any(want) and not all(want)

    arena = Arena(len(texts))
    docs = []
    for part in (texts[:3], texts[3:]):
        batch = sketch_texts(part, params)
        arena.take(batch)
        docs += batch.docs(ids[len(docs) : len(docs) + len(part)])
    assert all(d._home is not None and d._home[0] is arena.base for d in docs)
    flat = unique_segments(docs[::-1])[0]
    assert flat is arena.base  # (in any order)
    assert hits(verify_pairs(every(docs), params)) == want

    small = Arena(1)  # sized for one article: the second batch starts a new array
    split = []
    for part in (texts[:3], texts[3:]):
        batch = sketch_texts(part, params)
        small.take(batch)
        split += batch.docs(ids[len(split) : len(split) + len(part)])
    assert split[0]._home is not None and split[-1]._home is not None
    assert split[0]._home[0] is not split[-1]._home[0]
    assert unique_segments(split)[0] is not small.base
    assert hits(verify_pairs(every(split), params)) == want


def test_an_arena_serves_the_next_window_only_when_nothing_points_into_it() -> None:
    """`Arena.start`: the next window writes over the same array once the last window's
    articles are gone; while one of them still holds a view, a new array is made and
    its shingles stay as they were."""
    from dedup.sketch import Arena

    params = Params()
    arena = Arena(4)
    batch = sketch_texts([story(1), story(2)], params)
    arena.take(batch)
    first = id(arena.base)  # (ids: a reference held here would count as a user)
    kept = batch.docs(["a", "b"])[0]
    shingles = kept.shingles.copy()
    del batch
    arena.start(4)  # `kept` still points into the array
    assert arena.base is None
    arena.take(sketch_texts([story(3), story(4)], params))
    assert id(arena.base) != first and np.array_equal(kept.shingles, shingles)
    second = id(arena.base)
    del kept
    arena.start(4)  # nothing points into the second array any more
    assert id(arena.base) == second
    arena.take(sketch_texts([story(5)], params))
    assert id(arena.base) == second and arena.fill == len(sketch_texts([story(5)], params).shingles)


def test_a_failed_commit_window_loses_nothing_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that dies in its second transaction keeps the first (the LSH segments it
    had cached in memory for the second are not used), and a rerun ends where one
    uninterrupted run ends."""
    from dedup import engine

    shared = story(999, 1)
    texts = {f"t{i}": story(i, 3) + "\n\n" + shared for i in range(5)}
    texts.update({f"c{i}": story(i, 3) for i in range(5)})
    one = make_db(tmp_path / "one.db", texts)
    dedup.update(one, max_bucket=3)
    broken = make_db(tmp_path / "broken.db", texts)
    real = engine.pair_window
    calls = []

    def dies_the_second_time(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "pair_window", dies_the_second_time)
    with pytest.raises(KeyboardInterrupt):
        dedup.update(broken, commit_every=4, batch_size=2, max_bucket=3)
    assert broken.execute("SELECT COUNT(*) FROM dedup_signatures").fetchone()[0] == 4
    assert broken.execute("SELECT COUNT(*) FROM cluster_members").fetchone()[0] == 4
    monkeypatch.setattr(engine, "pair_window", real)
    dedup.update(broken, commit_every=4, batch_size=2, max_bucket=3)

    def pairs(c: sqlite3.Connection) -> list[tuple]:
        return c.execute("SELECT * FROM dedup_pairs ORDER BY a, b").fetchall()

    assert pairs(one) == pairs(broken)
    assert clusters_by_url(one) == clusters_by_url(broken)


def test_components_equal_union_find() -> None:
    """The array-based components equal those of a plain union-find, on random graphs."""
    from dedup.relations import UnionFind, components

    rng = random.Random(3)
    for _ in range(300):
        ids = sorted({f"x{rng.randint(0, 99):02d}" for _ in range(rng.randint(0, 40))})
        edges = [(rng.choice(ids), rng.choice(ids)) for _ in range(rng.randint(0, 30))] if ids else []
        sets = UnionFind(ids)
        for a, b in edges:
            sets.union(a, b)
        groups: dict[str, list[str]] = {}
        for i in ids:
            groups.setdefault(sets.find(i), []).append(i)
        assert components(ids, edges) == sorted(groups.values(), key=lambda v: v[0])


def test_member_stats_equal_set_arithmetic() -> None:
    """Share in the rest of the cluster and Jaccard with the representative, as computed
    from Python sets (members with no shingles included), for many clusters at once,
    whatever the order of `sets` (its arrays are copied in that order, not the clusters')."""
    from dedup.engine import _member_stats

    assert _member_stats([["a", "b"], ["c"]], ["b", "c"], {}) == {"a": (0.0, 0.0), "b": (0.0, 1.0)}
    rng = np.random.default_rng(5)
    comps, reps, sets = [], [], {}
    for trial in range(200):
        n = int(rng.integers(1, 9))
        comp = [f"t{trial}m{i}" for i in range(n)]
        # few distinct values, several of them alike in their low bits: hash table
        # slots are shared and probed past
        pool = (rng.integers(0, 60, size=40) * rng.choice([1, 1024], size=40)).astype(np.uint32)
        for i, x in enumerate(comp):
            if trial % 7 or i != 1:  # sometimes a member without a set at all
                sets[x] = np.unique(rng.choice(pool, size=int(rng.integers(0, 25))))
        comps.append(comp)
        reps.append(comp[int(rng.integers(0, n))])
    keys = list(sets)
    rng.shuffle(keys)
    sets = {x: sets[x] for x in keys}
    # Most sets are stretches of one array, as a window's are (read where they lie), a
    # few of another (copied), the rest arrays of their own (copied).
    stretch = {x: (a, 0, len(a)) for x, a in sets.items()}
    for k, part in enumerate((keys[: len(keys) * 2 // 3], keys[len(keys) * 2 // 3 :][::3])):
        base = np.concatenate([np.full(3 + k, 7, np.uint32)] + [sets[x] for x in part])
        at = 3 + k
        for x in part:
            stretch[x], at = (base, at, len(sets[x])), at + len(sets[x])
    got = _member_stats(comps, reps, stretch)
    assert set(got) == {x for comp in comps if len(comp) > 1 for x in comp}
    for comp, rep in zip(comps, reps, strict=True):
        py = {x: set(sets.get(x, np.zeros(0, np.uint32)).tolist()) for x in comp}
        for x in comp:
            rest = set().union(*(py[y] for y in comp if y != x))
            share = len(py[x] & rest) / len(py[x]) if py[x] else 0.0
            if len(comp) == 1:
                share, sim = 0.0, 1.0
            elif not py[x]:
                sim = 1.0 if x == rep else 0.0
            elif not py[rep]:
                sim = 0.0
            else:
                sim = len(py[x] & py[rep]) / len(py[x] | py[rep])
            assert got.get(x, (0.0, 1.0)) == (round(share, 4), round(sim, 4)), (comp, x)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=60), st.randoms())
def test_candidate_pairs_by_id_are_the_sorted_distinct_pairs_of_ids(
    cand: list[tuple[int, int]], rnd: Any
) -> None:
    """`_pairs_by_id` gives each distinct pair of articles once, (smaller id, larger id),
    in the order of the pairs of ids, whatever order the docnos and ids come in."""
    from dedup.engine import _pairs_by_id

    cand = [(x, y) for x, y in cand if x != y]
    ids = [f"id{i:02d}" for i in range(41)]
    rnd.shuffle(ids)  # docno order is not id order
    names = dict(enumerate(ids))
    arr = np.array(cand, dtype=np.int64).reshape(-1, 2)
    got_ids, a, b = _pairs_by_id(arr, names)
    want = sorted({(min(names[x], names[y]), max(names[x], names[y])) for x, y in cand})
    assert got_ids == sorted({names[n] for pair in cand for n in pair})
    assert [(got_ids[i], got_ids[j]) for i, j in zip(a.tolist(), b.tolist(), strict=True)] == want


def test_a_batch_with_no_passage_long_enough_is_indexed(tmp_path: Path) -> None:
    """Articles too short to have a passage (a headline, an empty text) are indexed and
    stand alone; a batch made only of them used to fail in the MinHash step."""
    conn = make_db(tmp_path / "s.db", {"short": "Kurz gemeldet.", "empty": "", "also": "Zwei Worte"})
    summary = dedup.update(conn)
    assert summary["indexed"] == 3
    assert len(set(clusters_by_url(conn).values())) == 3
    conn.close()


def test_totals_are_left_out_on_request_and_nothing_else_changes(tmp_path: Path) -> None:
    """`totals=False` (the crawl's calls) skips counting the tables: the summary has no
    totals, and the tables hold what a call with them leaves."""
    texts = {"a": story(1), "b": story(1) + "\n\nNachtrag.", "c": story(2)}
    with_totals = make_db(tmp_path / "t.db", texts)
    without = make_db(tmp_path / "f.db", texts)
    full, bare = dedup.update(with_totals), dedup.update(without, totals=False)
    assert full["clusters"] == 2 and full["articles_indexed"] == 3
    assert not {"articles_indexed", "clusters", "multi_clusters", "containers", "pairs"} & set(bare)
    assert bare["indexed"] == full["indexed"] == 3
    assert clusters_by_url(without) == clusters_by_url(with_totals)
    with_totals.close()
    without.close()


def test_progress_reports_each_step_and_the_queue(tmp_path: Path) -> None:
    """`progress` sees every batch and every step of each commit window, counts that
    only grow, and the queue it started from; withdrawals come first and say so."""
    conn = make_db(tmp_path / "p.db", {f"s{i}": story(i) for i in range(10)})
    seen: list[tuple[str, int, int]] = []
    summary = dedup.update(
        conn, batch_size=3, commit_every=6, progress=lambda p: seen.append((p.phase, p.indexed, p.queued))
    )
    assert summary["indexed"] == 10
    window = ["pairing", "clustering", "committing", "committed"]
    assert [p for p, _, _ in seen] == ["sketching"] * 2 + window + ["sketching"] * 2 + window
    assert [n for _, n, _ in seen] == [3, 6, 6, 6, 6, 6, 9, 10, 10, 10, 10, 10]
    assert {q for _, _, q in seen} == {10}
    # A changed and a deleted article: withdrawn first, then the changed one indexed anew.
    conn.execute("UPDATE articles SET text = ? WHERE url = ?", (story(99), "https://example.org/s1"))
    conn.execute("DELETE FROM articles WHERE url = ?", ("https://example.org/s2",))
    seen.clear()
    dedup.update(conn, progress=lambda p: seen.append((p.phase, p.indexed, p.queued)))
    assert seen[0] == ("withdrawing", 0, 1)
    assert seen[-1] == ("committed", 1, 1)


def _fresh_rss(body: str) -> dict[str, float]:
    """Run `body` in a new interpreter and return the resident sizes (MiB) it records
    with `rss(name)`. The tests of `dedup.heap` measure the process's resident memory:
    in the test process, what earlier tests left in glibc's heap (a free block large
    enough is reused before anything is mapped) would decide the figures."""
    code = textwrap.dedent(
        """
        import json, numpy as np
        from pathlib import Path
        from dedup.heap import MMAP_THRESHOLD, _glibc, heap_kept
        out = {}
        def rss(name):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[name] = int(line.split()[1]) / 1024
        """
    ) + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_freed_memory_is_kept_during_an_update_and_given_back_after() -> None:
    """`dedup.heap.heap_kept`: arrays of a few MiB freed inside stay with the process
    (the next batch reuses them instead of faulting in fresh pages); at the end the
    free memory goes back to the system."""
    from dedup.heap import _glibc

    if _glibc() is None:
        pytest.skip("glibc only")
    mib = _fresh_rss(
        """
        rss("before")
        with heap_kept():
            blocks = [np.ones(2**19) for _ in range(64)]  # 64 arrays of 4 MiB: 256 MiB
            del blocks
            rss("inside")
        rss("after")
        """
    )
    assert mib["inside"] - mib["before"] > 200
    assert mib["after"] - mib["before"] < 50


def test_blocks_above_the_mmap_threshold_are_kept_too() -> None:
    """Arrays larger than glibc's largest mmap threshold (32 MiB: LSH segments and their
    merges at a million articles) come from the heap inside `heap_kept` as well, so the
    next window reuses them; they too go back to the system at the end."""
    from dedup.heap import _glibc

    if _glibc() is None:
        pytest.skip("glibc only")
    mib = _fresh_rss(
        """
        size = 2 * MMAP_THRESHOLD // 8  # float64 values: 64 MiB an array
        rss("before")
        with heap_kept():
            blocks = [np.ones(size) for _ in range(4)]  # 256 MiB
            del blocks
            rss("inside")
        rss("after")
        # Outside, glibc maps such blocks apart again and unmaps them on free.
        block = np.ones(size)
        del block
        rss("outside")
        """
    )
    assert mib["inside"] - mib["before"] > 200
    assert mib["after"] - mib["before"] < 50
    assert mib["outside"] - mib["before"] < 50


def test_a_withdrawn_docno_is_not_given_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The article with the largest docno changes: its entries stay in the segments,
    withdrawn, and its new version gets a docno of its own (with the old one, lookups
    would leave it out). A copy of the new version, added later, finds it."""
    from dedup import lsh

    monkeypatch.setattr(lsh, "PURGE_SHARE", 1.0)  # (withdrawn entries never leave)
    conn = make_db(tmp_path / "x.db", {"a": story(1), "b": story(2), "c": story(3)})
    dedup.update(conn)
    last, aid = conn.execute(
        "SELECT docno, article_id FROM dedup_signatures ORDER BY docno DESC"
    ).fetchone()
    conn.execute("UPDATE articles SET text = ? WHERE id = ?", [story(7), aid])
    assert dedup.update(conn)["withdrawn"] == 1
    assert conn.execute("SELECT COUNT(*) FROM dedup_lsh_withdrawn").fetchone()[0] == 1
    docno = conn.execute("SELECT docno FROM dedup_signatures WHERE article_id = ?", [aid]).fetchone()[0]
    assert docno > last
    near = "\n\n".join(story(7).split("\n\n")[:4] + [story(8, 1)])
    with Store(tmp_path / "x.db") as s:
        s.upsert_articles([{"url": "https://example.org/copy", "outlet": "t", "text": near}])
    dedup.update(conn)
    copy = conn.execute("SELECT id FROM articles WHERE url LIKE '%/copy'").fetchone()[0]
    clusters = dict(conn.execute("SELECT article_id, cluster_id FROM cluster_members").fetchall())
    assert clusters[aid] == clusters[copy] and len(set(clusters.values())) == 3

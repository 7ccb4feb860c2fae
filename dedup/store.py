"""The dedup tables: the only module of `dedup/` that touches SQLite.

Schema (browse it in Datasette; ids are `articles.id`):

`dedup_params` (name, value)
    The parameters the index was built with, one row each (see `dedup.params.Params`).
    `dedup.update` refuses to mix: rebuild with `newsdedup dedup --rebuild`.
`dedup_signatures` (docno, article_id, text_hash, passages, shingles, passage_sizes,
    signatures, background0, is_container, background, indexed)
    One row per indexed article: the xxh64 of its normalized text (equal = exact
    duplicate), its passage sizes in shingles (JSON), per-passage MinHash values
    (uint32 LE blob, passages x num_perm, datasketch affine32 scheme), and the derived
    flags: background passages (JSON passage indexes) and whether it is a container.
    Its shingles are not stored: verifying it again makes them from its text
    (`indexed_texts`), and the text hash tells whether that text is still the one indexed.
`dedup_lsh` (segment, tag, entries, buckets, docnos)
    The persisted LSH index, as segments of (band key, article) entries over all
    passages: `buckets` is a sorted int64 LE blob of band keys, `docnos` the int32 LE
    docno of each entry (see `dedup.lsh`; a process reads the keys of every segment
    and the docnos of the runs its lookups find); `tag` is random, so a process that
    cached a segment notices when a rebuild wrote another one under the same number.
`dedup_lsh_withdrawn` (part, entries, last_docno, buckets, docnos)
    Entries of withdrawn articles (deleted, or changed and indexed anew under a new
    docno) that are still in the segments: lookups leave them out. One part per
    update that withdrew articles, the same blobs as a segment's; they leave the
    segments, and these rows, when a merge rewrites their segment or once they are a
    tenth of the index (`dedup.lsh`).
    `last_docno`: its largest docno, never given to an article again.
`dedup_pairs` (a, b, a_share, b_share, a_hits, b_hits)
    Verified candidate pairs (a < b): the share of each side's shingles found in the
    other, and per passage (JSON {passage: shingles found}).
`clusters` (cluster_id, representative, size, exact_duplicates, containers)
    One row per cluster (singletons included). The id is the representative's
    article id: the earliest published member, preferring one that credits an agency.
`cluster_members` (article_id, cluster_id, is_representative, share, similarity,
    exact_duplicate_of, is_container)
    share: part of the member's text shared with the rest of its cluster;
    similarity: Jaccard of its shingles with the representative's; exact_duplicate_of:
    smallest id with the same normalized text, NULL when none.
`dedup_contains` (container_id, member_id, cluster_id, share)
    An article (ticker, round-up) holding `share` of another article's shingles
    without being its copy.
`cluster_containers` (view: container_id, cluster_id, share, members)
    The same per cluster, with the largest share.

`dedup_queue` (article_id, published)
    The articles not indexed yet, in the order they are taken. Triggers on `articles`
    (`dedup_queue_*`, which belong to dedup) keep it: an inserted article is queued, a
    deleted one leaves, a changed date moves it; indexing an article takes it out. So
    finding what is new costs what is new, however large the database. An indexed
    article whose text, date or agencies change (an upsert with a new text, a REPLACE)
    is queued again: the next update withdraws it from the index and indexes it anew.
`dedup_gone` (article_id)
    Articles deleted from `articles` (trigger `dedup_gone_delete`); the next update
    withdraws those it had indexed.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import numpy as np

from dedup.lsh import LshIndex, Segment
from dedup.params import Params

TABLES = (
    "dedup_queue",
    "dedup_gone",
    "dedup_params",
    "dedup_signatures",
    "dedup_lsh",
    "dedup_lsh_withdrawn",
    "dedup_pairs",
    "clusters",
    "cluster_members",
    "dedup_contains",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_params (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS dedup_signatures (
    docno INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL UNIQUE,
    text_hash TEXT NOT NULL,
    passages INTEGER NOT NULL,
    shingles INTEGER NOT NULL,
    passage_sizes TEXT NOT NULL,
    signatures BLOB NOT NULL,
    published TEXT,
    credits_agency INTEGER NOT NULL DEFAULT 0,
    background0 TEXT NOT NULL DEFAULT '[]',
    is_container INTEGER NOT NULL DEFAULT 0,
    background TEXT NOT NULL DEFAULT '[]',
    indexed TEXT
);
CREATE INDEX IF NOT EXISTS dedup_signatures_text_hash ON dedup_signatures(text_hash);
CREATE TABLE IF NOT EXISTS dedup_lsh (
    segment INTEGER PRIMARY KEY AUTOINCREMENT,
    tag INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    buckets BLOB NOT NULL,
    docnos BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS dedup_lsh_withdrawn (
    part INTEGER PRIMARY KEY AUTOINCREMENT,
    entries INTEGER NOT NULL,
    last_docno INTEGER NOT NULL,
    buckets BLOB NOT NULL,
    docnos BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS dedup_pairs (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    a_share REAL NOT NULL,
    b_share REAL NOT NULL,
    a_hits TEXT NOT NULL,
    b_hits TEXT NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_pairs_b ON dedup_pairs(b);
CREATE TABLE IF NOT EXISTS clusters (
    cluster_id TEXT PRIMARY KEY,
    representative TEXT NOT NULL,
    size INTEGER NOT NULL,
    exact_duplicates INTEGER NOT NULL,
    containers INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cluster_members (
    article_id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL,
    is_representative INTEGER NOT NULL,
    share REAL,
    similarity REAL,
    exact_duplicate_of TEXT,
    is_container INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cluster_members_cluster ON cluster_members(cluster_id);
CREATE TABLE IF NOT EXISTS dedup_contains (
    container_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    share REAL NOT NULL,
    PRIMARY KEY (container_id, member_id)
);
CREATE INDEX IF NOT EXISTS dedup_contains_member ON dedup_contains(member_id);
CREATE INDEX IF NOT EXISTS dedup_contains_cluster ON dedup_contains(cluster_id);
CREATE VIEW IF NOT EXISTS cluster_containers AS
    SELECT container_id, cluster_id, MAX(share) AS share, COUNT(*) AS members
    FROM dedup_contains GROUP BY container_id, cluster_id;
"""
# The queue of articles to index (see the module docstring), made once `articles` exists.
QUEUE_TRIGGERS = (
    "dedup_queue_insert",
    "dedup_queue_delete",
    "dedup_queue_published",
    "dedup_queue_changed",
    "dedup_gone_delete",
)
QUEUE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS dedup_queue (article_id TEXT PRIMARY KEY, published TEXT) "
    "WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS dedup_queue_order ON dedup_queue(published, article_id)",
    "CREATE TABLE IF NOT EXISTS dedup_gone (article_id TEXT PRIMARY KEY) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS dedup_queue_insert AFTER INSERT ON articles BEGIN "
    "INSERT OR IGNORE INTO dedup_queue (article_id, published) VALUES (new.id, new.published); END",
    "CREATE TRIGGER IF NOT EXISTS dedup_queue_delete AFTER DELETE ON articles BEGIN "
    "DELETE FROM dedup_queue WHERE article_id = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS dedup_queue_published AFTER UPDATE OF published ON articles "
    "BEGIN UPDATE dedup_queue SET published = new.published WHERE article_id = new.id; END",
    # What the index was built from changed: queue it again (an upsert that writes the
    # same values changes nothing and queues nothing).
    "CREATE TRIGGER IF NOT EXISTS dedup_queue_changed AFTER UPDATE OF text, published, agencies "
    "ON articles WHEN old.text IS NOT new.text OR old.published IS NOT new.published "
    "OR old.agencies IS NOT new.agencies BEGIN "
    "INSERT OR IGNORE INTO dedup_queue (article_id, published) VALUES (new.id, new.published); END",
    "CREATE TRIGGER IF NOT EXISTS dedup_gone_delete AFTER DELETE ON articles BEGIN "
    "INSERT OR IGNORE INTO dedup_gone (article_id) VALUES (old.id); END",
)
# Stored LSH keys are read this many at a time (8 MiB), and held as bands when they are
# band keys of fewer bands than this (see `DedupStore._read_segment_keys`).
KEYS_READ = 2**20
MAX_BANDS = 1024
# Loaded LSH segments per database file: {path: {segment id: Segment}}.
_LSH_CACHE: dict[str | None, dict[tuple[int, int], Segment]] = {}
_CHUNK = 500  # ids per IN (...) query, below SQLite's variable limit
CACHE_KIB = 131072


class ParamsMismatch(Exception):
    """The database was indexed with other dedup parameters."""


def _chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class DedupStore:
    """Reads and writes the dedup tables on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # The LSH and pair B-trees are read and written at random places: a page cache of
        # 128 MiB (SQLite's default is 2 MiB) keeps their upper levels in memory.
        if conn.execute("PRAGMA cache_size").fetchone()[0] > -CACHE_KIB:
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")

    # -- schema and params ----------------------------------------------------------

    def ensure_schema(self) -> None:
        # One statement at a time: executescript() would commit the caller's transaction.
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self.conn.execute(statement)
        if self._exists("articles"):
            if not self._exists("dedup_queue"):
                self._create_queue()
            else:  # databases made before some of the triggers
                for statement in QUEUE_SCHEMA:
                    self.conn.execute(statement)
        self._migrate_row_lsh()

    def _exists(self, name: str) -> bool:
        q = "SELECT 1 FROM sqlite_master WHERE name = ?"
        return self.conn.execute(q, [name]).fetchone() is not None

    def _create_queue(self) -> None:
        """The queue of articles to index, its triggers, and every article not indexed
        yet in it (the articles table exists)."""
        for statement in QUEUE_SCHEMA:
            self.conn.execute(statement)
        self.conn.execute(
            "INSERT INTO dedup_queue (article_id, published) SELECT a.id, a.published "
            "FROM articles a LEFT JOIN dedup_signatures s ON s.article_id = a.id "
            "WHERE s.article_id IS NULL"
        )
        # Earlier versions walked this index of all articles instead.
        self.conn.execute("DROP INDEX IF EXISTS dedup_articles_order")

    def drop(self) -> None:
        self.forget_lsh()
        self.conn.execute("DROP VIEW IF EXISTS cluster_containers")
        for trigger in QUEUE_TRIGGERS:
            self.conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for t in TABLES:
            self.conn.execute(f"DROP TABLE IF EXISTS {t}")

    def stored_params(self) -> dict[str, Any]:
        rows = self.conn.execute("SELECT name, value FROM dedup_params").fetchall()
        return {name: json.loads(value) for name, value in rows}

    def check_params(self, params: Params) -> None:
        """Record params in an empty index; refuse other params in a built one."""
        wanted = json.loads(params.to_json())
        stored = self.stored_params()
        if not stored:
            self.conn.executemany(
                "INSERT INTO dedup_params (name, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in sorted(wanted.items())],
            )
            return
        diff = {k: (stored.get(k), v) for k, v in wanted.items() if stored.get(k) != v}
        versions = {f.name for f in fields(Params) if not f.metadata.get("option", True)}
        if diff and set(diff) <= versions:
            # Nothing the user chose: the database was built by an older newsdedup. (A
            # version it does not record is its first: what was done before there was one.)
            shown = "; ".join(
                f"{k} version {1 if a is None else a}, now {b}" for k, (a, b) in sorted(diff.items())
            )
            raise ParamsMismatch(
                f"this database was deduplicated by an older version of newsdedup ({shown}); "
                "rebuild with `newsdedup dedup --rebuild` (the articles are kept)"
            )
        if diff:
            shown = ", ".join(
                f"{k}: db has {a!r}, asked {b!r}" for k, (a, b) in sorted(diff.items())
            )
            raise ParamsMismatch(
                f"this database was deduplicated with other parameters ({shown}); "
                "rebuild with `newsdedup dedup --rebuild` (and the new options) "
                "or run with the recorded parameters"
            )

    # -- articles -------------------------------------------------------------------

    def pending_articles(
        self, limit: int, after: tuple[str | None, str] | None = None
    ) -> tuple[list[tuple[str, str, str | None, str | None]], tuple[str | None, str] | None]:
        """Articles not indexed yet, in order of publication (undated ones first), and the
        cursor to pass back for the next page: (id, text, published, agencies) rows.

        Copies of one wire story are published within hours of each other, so taken in
        this order they mostly land in one commit window, and their neighbourhood is
        reclustered once rather than once per window they are spread over. `after` is
        (published, id) of the last row taken (None: from the start). Pages are read off
        `dedup_queue`, which holds only the articles not indexed yet: with nothing new,
        a database of a million articles answers at once (walking an index of all
        articles took 2.3 s).
        """
        rows: list[tuple[Any, ...]] = []
        args: list[Any]
        if not self._exists("dedup_queue"):  # no articles table yet
            return [], after
        if after is None or after[0] is None:
            where, args = "q.published IS NULL", []
            if after is not None:
                where, args = where + " AND q.article_id > ?", [after[1]]
            rows = self._pending_page(where, args, limit)
            after = (None, rows[-1][0]) if rows else after
        if len(rows) < limit:
            where, args = "q.published IS NOT NULL", []
            if after is not None and after[0] is not None:
                where, args = where + " AND (q.published, q.article_id) > (?, ?)", list(after)
            rows += self._pending_page(where, args, limit - len(rows))
        if not rows:
            return [], after
        return rows, (rows[-1][2], rows[-1][0])

    def queued(self) -> int:
        """Articles waiting in `dedup_queue`: new ones, and changed ones to index anew."""
        if not self._exists("dedup_queue"):
            return 0
        return int(self.conn.execute("SELECT COUNT(*) FROM dedup_queue").fetchone()[0])

    def _pending_page(self, where: str, args: list[Any], limit: int) -> list[tuple[Any, ...]]:
        # The queue's `published` is the article's (a trigger keeps them equal). An article
        # still indexed (changed by another writer since this update withdrew the stale
        # ones) waits in the queue for the next update to withdraw it first.
        return self.conn.execute(
            "SELECT a.id, COALESCE(a.text, ''), q.published, a.agencies "
            "FROM dedup_queue q INDEXED BY dedup_queue_order JOIN articles a ON a.id = q.article_id "
            f"WHERE {where} AND NOT EXISTS (SELECT 1 FROM dedup_signatures s "
            "WHERE s.article_id = q.article_id) ORDER BY q.published, q.article_id LIMIT ?",
            [*args, limit],
        ).fetchall()

    # -- signatures and LSH -----------------------------------------------------------

    def insert_signatures(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
        """Insert signature rows, numbered after the last docno; returns article_id -> docno.

        A row: (article_id, text_hash, passages, shingles, passage_sizes, signatures,
        published, credits_agency). Callers hold the write lock (BEGIN
        IMMEDIATE), so nobody else numbers rows meanwhile.
        """
        now = datetime.now(UTC).isoformat(timespec="seconds")
        # (after every docno in use and every one whose entries are withdrawn, see
        # `dedup.lsh.LshIndex.withdraw`: none is given out twice)
        last = self.conn.execute(
            "SELECT MAX((SELECT COALESCE(MAX(docno), 0) FROM dedup_signatures), "
            "(SELECT COALESCE(MAX(last_docno), 0) FROM dedup_lsh_withdrawn))"
        ).fetchone()[0]
        ids = {r[0]: last + 1 + i for i, r in enumerate(rows)}
        self.conn.executemany(
            "INSERT INTO dedup_signatures (docno, article_id, text_hash, passages, shingles, "
            "passage_sizes, signatures, published, credits_agency, indexed) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(ids[r[0]], *r, now) for r in rows],
        )
        self.conn.execute(
            "DELETE FROM dedup_queue WHERE article_id IN (SELECT value FROM json_each(?))",
            [json.dumps([r[0] for r in rows])],
        )
        return ids

    def stale_articles(self, limit: int) -> dict[str, int]:
        """Up to `limit` indexed articles to withdraw, article_id -> docno: those deleted
        since (`dedup_gone`) and those queued again (changed since). Deleted ones that
        were never indexed, and those returned, leave `dedup_gone`."""
        if not self._exists("dedup_queue"):
            return {}
        self.conn.execute(
            "DELETE FROM dedup_gone WHERE article_id NOT IN (SELECT article_id FROM dedup_signatures)"
        )
        if self.conn.execute("SELECT 1 FROM dedup_signatures LIMIT 1").fetchone() is None:
            return {}  # (nothing indexed: the query below would still list the whole queue)
        rows = self.conn.execute(
            "SELECT s.article_id, s.docno FROM dedup_signatures s WHERE s.article_id IN "
            "(SELECT article_id FROM dedup_gone UNION ALL SELECT article_id FROM dedup_queue) "
            "ORDER BY s.docno LIMIT ?",
            [limit],
        ).fetchall()
        self.conn.executemany("DELETE FROM dedup_gone WHERE article_id = ?", [(r[0],) for r in rows])
        return dict(rows)

    def forget_articles(self, ids: Sequence[str]) -> tuple[set[str], set[str]]:
        """Delete every dedup row of these articles: signatures, pairs, cluster rows and
        containment links. Returns (the other members of their clusters, the clusters
        their links pointed at), whose rows must be recomputed."""
        members: set[str] = set()
        linked: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            marks, args = _marks(len(chunk)), list(chunk)
            old = [
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT cluster_id FROM cluster_members WHERE article_id IN ({marks})",
                    args,
                )
            ]
            for c in _chunks(old):
                q = f"SELECT article_id FROM cluster_members WHERE cluster_id IN ({_marks(len(c))})"
                members.update(r[0] for r in self.conn.execute(q, list(c)))
                self.conn.execute(
                    f"DELETE FROM clusters WHERE cluster_id IN ({_marks(len(c))})", list(c)
                )
            where = f"container_id IN ({marks}) OR member_id IN ({marks})"
            q = f"SELECT DISTINCT cluster_id FROM dedup_contains WHERE {where}"
            linked.update(r[0] for r in self.conn.execute(q, args * 2))
            self.conn.execute(f"DELETE FROM dedup_contains WHERE {where}", args * 2)
            self.conn.execute(f"DELETE FROM cluster_members WHERE article_id IN ({marks})", args)
            self.conn.execute(f"DELETE FROM dedup_pairs WHERE a IN ({marks})", args)
            self.conn.execute(f"DELETE FROM dedup_pairs WHERE b IN ({marks})", args)
            self.conn.execute(f"DELETE FROM dedup_signatures WHERE article_id IN ({marks})", args)
        return members - set(ids), linked

    def load_lsh(self) -> LshIndex:
        """The LSH index, from this process's cache when its segments are still the stored ones.

        Segments are immutable once written (a merge writes a new one and deletes the old),
        so only segments not seen before are read: a crawl calling `dedup.update` every few
        hundred articles reads the index once, not per call. The cache is handed over to
        the returned index until `save_lsh` (a failed transaction leaves it empty).
        """
        stored = self.conn.execute("SELECT segment, tag FROM dedup_lsh ORDER BY segment").fetchall()
        key = self._db_key()
        cached = _LSH_CACHE.get(key, {}) if key else {}
        segs = {st: cached[st] for st in stored if st in cached}
        for s in segs.values():
            s.source = self  # (docnos not read yet are read through this connection now)
        missing = [seg for seg, tag in stored if (seg, tag) not in segs]
        tags = dict(stored)
        for seg in missing:
            # The keys only: docnos are read when a lookup finds their entries (`Segment`).
            segs[(seg, tags[seg])] = self._read_segment_keys(seg, tags[seg])
        # The index owns the segments now: a merge must be able to free them. `save_lsh`
        # puts the committed ones back in the cache.
        _LSH_CACHE.pop(key, None)
        # (a database last updated by a newsdedup before withdrawn entries has no such table)
        has_withdrawn = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dedup_lsh_withdrawn'"
        ).fetchone()
        rows = self.conn.execute(
            "SELECT part, buckets, docnos FROM dedup_lsh_withdrawn ORDER BY part"
        ).fetchall() if has_withdrawn else []
        withdrawn = [
            Segment(
                np.frombuffer(keys, "<i8").astype(np.int64, copy=False),
                np.frombuffer(docnos, "<i4").astype(np.int32, copy=False),
                part,
            )
            for part, keys, docnos in rows
        ]
        return LshIndex([segs[i] for i in stored], withdrawn)

    def _read_segment_keys(self, seg: int, tag: int) -> Segment:
        """A stored segment with its keys read and its docnos left in the database.

        Band keys of one row each, (band << 32) | value, are read as bands (uint32
        values and where each band starts, `dedup.lsh.Segment`), a piece of the blob at
        a time; other keys (hashed over several rows) as the int64 array they are.
        """
        with self.conn.blobopen("dedup_lsh", "buckets", seg, readonly=True) as blob:
            n = len(blob) // 8
            if n:
                first = int(np.frombuffer(blob.read(8), "<i8")[0])
                blob.seek((n - 1) * 8)
                last = int(np.frombuffer(blob.read(8), "<i8")[0])
                blob.seek(0)
            if not n or first < 0 or (last >> 32) >= MAX_BANDS:
                keys = np.frombuffer(blob.read(), "<i8").astype(np.int64, copy=False)
                return Segment(keys, None, seg, tag, source=self)
            bands = (last >> 32) + 1
            starts = np.arange(bands + 1, dtype=np.int64) << 32
            low = np.empty(n, dtype=np.uint32)
            band_at = np.zeros(bands + 1, dtype=np.int64)
            for at in range(0, n, KEYS_READ):
                piece = np.frombuffer(blob.read(min(KEYS_READ, n - at) * 8), "<i8")
                low[at : at + len(piece)] = piece.view("<u4")[0::2]  # (the low halves)
                band_at += np.searchsorted(piece, starts)
        return Segment(None, None, seg, tag, source=self, banded=(low, band_at))

    def read_docnos(self, segment: Segment) -> np.ndarray:
        """A stored segment's docnos, whole (`dedup.lsh.DocnoSource`)."""
        row = self.conn.execute(
            "SELECT docnos, tag FROM dedup_lsh WHERE segment = ?", [segment.id]
        ).fetchone()
        if row is None or row[1] != segment.tag:
            raise RuntimeError(f"LSH segment {segment.id} changed while it was being read")
        return np.frombuffer(row[0], dtype="<i4").astype(np.int32, copy=False)

    def read_docno_ranges(self, segment: Segment, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """A stored segment's docnos of entries lo[k]:hi[k], run after run, read from
        the blob in place (`dedup.lsh.DocnoSource`)."""
        if segment.id is None:
            raise ValueError("a segment not stored yet has no docnos in the database")
        parts = []
        with self.conn.blobopen("dedup_lsh", "docnos", segment.id, readonly=True) as blob:
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                blob.seek(a * 4)
                parts.append(blob.read((b - a) * 4))
        return np.frombuffer(b"".join(parts), dtype="<i4").astype(np.int32, copy=False)

    def save_lsh(self, index: LshIndex) -> None:
        """Write the segments not stored yet and delete stored ones the index merged away."""
        keep = {s.id for s in index.segments if s.id is not None}
        stored = [r[0] for r in self.conn.execute("SELECT segment FROM dedup_lsh")]
        gone = [i for i in stored if i not in keep]
        for chunk in _chunks(gone):
            self.conn.execute(
                f"DELETE FROM dedup_lsh WHERE segment IN ({_marks(len(chunk))})", list(chunk)
            )
        for s in index.segments:
            if s.id is None:
                s.tag = secrets.randbits(62)
                cur = self.conn.execute(
                    "INSERT INTO dedup_lsh (tag, entries, buckets, docnos) VALUES (?, ?, ?, ?)",
                    [
                        s.tag,
                        len(s),
                        np.ascontiguousarray(s.keys, dtype="<i8").tobytes(),
                        np.ascontiguousarray(s.docnos, dtype="<i4").tobytes(),
                    ],
                )
                s.id = int(cur.lastrowid or 0)
        parts = {w.id for w in index.withdrawn if w.id is not None}
        stored = [r[0] for r in self.conn.execute("SELECT part FROM dedup_lsh_withdrawn")]
        for chunk in _chunks([i for i in stored if i not in parts]):
            self.conn.execute(
                f"DELETE FROM dedup_lsh_withdrawn WHERE part IN ({_marks(len(chunk))})",
                list(chunk),
            )
        for w in index.withdrawn:
            if w.id is None:
                cur = self.conn.execute(
                    "INSERT INTO dedup_lsh_withdrawn (entries, last_docno, buckets, docnos) "
                    "VALUES (?, ?, ?, ?)",
                    [
                        len(w),
                        int(w.docnos.max()),
                        np.ascontiguousarray(w.keys, dtype="<i8").tobytes(),
                        np.ascontiguousarray(w.docnos, dtype="<i4").tobytes(),
                    ],
                )
                w.id = int(cur.lastrowid or 0)
        key = self._db_key()
        if key:
            # (without this connection: the next `load_lsh` reads through its own)
            for s in index.segments:
                s.source = None
            _LSH_CACHE[key] = {(s.id, s.tag): s for s in index.segments if s.id is not None}

    def forget_lsh(self) -> None:
        """Drop this database's cached index (after a rollback)."""
        _LSH_CACHE.pop(self._db_key(), None)

    def bucket_articles(self, key: int) -> list[str]:
        """Article ids in the LSH bucket `key`, for inspection."""
        # (in one read transaction: the segments listed are the ones whose docnos are read)
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            index = self.load_lsh()
            _, docnos = index.members(np.array([key], dtype=np.int64))
            return sorted(self.docnos_to_ids(docnos.tolist()).values())
        finally:
            if own:
                self.conn.execute("COMMIT")

    def _db_key(self) -> str | None:
        for _, name, path in self.conn.execute("PRAGMA database_list"):
            if name == "main":
                return path or None
        return None

    def _migrate_row_lsh(self) -> None:
        """Databases built before segments had one (bucket, docno) row per entry."""
        cols = [r[1] for r in self.conn.execute("PRAGMA table_info(dedup_lsh)")]
        if "bucket" not in cols:
            return
        rows = np.array(
            self.conn.execute("SELECT bucket, docno FROM dedup_lsh").fetchall(), dtype=np.int64
        ).reshape(-1, 2)
        self.conn.execute("DROP TABLE dedup_lsh")
        self.ensure_schema()
        index = LshIndex()
        index.add(rows[:, 0], rows[:, 1])
        self.save_lsh(index)

    def docnos_to_ids(self, docnos: Iterable[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in _chunks(sorted(set(docnos))):
            q = f"SELECT docno, article_id FROM dedup_signatures WHERE docno IN ({_marks(len(chunk))})"
            out.update(self.conn.execute(q, list(chunk)).fetchall())
        return out

    def signatures_by_docno(self, docnos: Iterable[int]) -> Iterator[tuple[int, str, bytes, int]]:
        """(docno, article_id, signatures, passages) of these docnos."""
        for chunk in _chunks(sorted(set(docnos))):
            q = (
                "SELECT docno, article_id, signatures, passages FROM dedup_signatures "
                f"WHERE docno IN ({_marks(len(chunk))})"
            )
            yield from self.conn.execute(q, list(chunk))

    def signatures_of(self, ids: Iterable[str]) -> Iterator[tuple[int, str, bytes, int]]:
        """(docno, article_id, signatures, passages) of these article ids."""
        for aid, docno, blob, nper in self.signature_rows(ids, "docno, signatures, passages"):
            yield docno, aid, blob, nper

    def signature_rows(self, ids: Iterable[str], columns: str) -> Iterator[tuple[Any, ...]]:
        for chunk in _chunks(sorted(set(ids))):
            q = (
                f"SELECT article_id, {columns} FROM dedup_signatures "
                f"WHERE article_id IN ({_marks(len(chunk))})"
            )
            yield from self.conn.execute(q, list(chunk))

    def indexed_texts(self, ids: Iterable[str]) -> Iterator[tuple[str, str, str]]:
        """(article_id, text, text_hash as indexed) of indexed articles; the text is ''
        for an article deleted since (not withdrawn yet)."""
        for chunk in _chunks(sorted(set(ids))):
            yield from self.conn.execute(
                "SELECT s.article_id, COALESCE(a.text, ''), s.text_hash FROM dedup_signatures s "
                f"LEFT JOIN articles a ON a.id = s.article_id WHERE s.article_id IN ({_marks(len(chunk))})",
                list(chunk),
            )

    def requeue(self, ids: Iterable[str]) -> None:
        """Queue these indexed articles again, to be withdrawn and indexed anew by the
        next update (an article deleted since is already in `dedup_gone`)."""
        for chunk in _chunks(sorted(set(ids))):
            self.conn.execute(
                "INSERT OR IGNORE INTO dedup_queue (article_id, published) "
                f"SELECT id, published FROM articles WHERE id IN ({_marks(len(chunk))})",
                list(chunk),
            )

    def same_text(self, text_hashes: Iterable[str]) -> list[tuple[str, str]]:
        """(article_id, text_hash) of every article with one of these normalized texts
        that another article has too (an article alone with its text is left out).

        Found in the text_hash index alone, which holds the docno, and only the docnos of
        shared texts are looked up in the table: most texts are one article's own, and
        reading each one's row costs a page read apiece (clustering a 1M build read 4.7 GB
        that way, 1.0 GB this way; from the OS's file cache that cost no measurable CPU,
        from a disk it would)."""
        # (the hashes as one JSON array: a statement per few hundred of them, each with
        # its list of parameters, costs half as much again for a window of 100k)
        docnos: dict[str, list[int]] = {}
        for h, docno in self.conn.execute(
            "SELECT text_hash, docno FROM dedup_signatures "
            "WHERE text_hash IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(set(text_hashes)))],
        ):
            docnos.setdefault(h, []).append(docno)
        shared = {n: h for h, ns in docnos.items() if len(ns) > 1 for n in ns}
        return [(aid, shared[n]) for n, aid in self.docnos_to_ids(shared).items()]

    def save_flags(self, rows: Iterable[tuple[str, str, int, str]]) -> None:
        """(background0 JSON, is_container, background JSON) per article id."""
        self.conn.executemany(
            "UPDATE dedup_signatures SET background0 = ?, is_container = ?, background = ? "
            "WHERE article_id = ?",
            [(b0, c, b, i) for i, b0, c, b in rows],
        )

    # -- pairs ----------------------------------------------------------------------

    def upsert_pairs(self, rows: Iterable[tuple[str, str, float, float, str, str]]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO dedup_pairs (a, b, a_share, b_share, a_hits, b_hits) "
            "VALUES (?,?,?,?,?,?)",
            rows,
        )

    def delete_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.conn.executemany("DELETE FROM dedup_pairs WHERE a = ? AND b = ?", pairs)

    def pairs_of(self, ids: Iterable[str]) -> list[tuple[str, str, str, str]]:
        """Every stored pair with an end in `ids`: (a, b, a_hits, b_hits)."""
        seen: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        ids = sorted(set(ids))
        for chunk in _chunks(ids):
            marks = _marks(len(chunk))
            for col in ("a", "b"):
                q = f"SELECT a, b, a_hits, b_hits FROM dedup_pairs WHERE {col} IN ({marks})"
                for row in self.conn.execute(q, list(chunk)):
                    seen[(row[0], row[1])] = row
        return list(seen.values())

    # -- clusters ---------------------------------------------------------------------

    def members_of_clusters_of(self, ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            q = (
                "SELECT m2.article_id FROM cluster_members m1 JOIN cluster_members m2 "
                f"ON m1.cluster_id = m2.cluster_id WHERE m1.article_id IN ({_marks(len(chunk))})"
            )
            out.update(r[0] for r in self.conn.execute(q, list(chunk)))
        return out

    def cluster_of(self, ids: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(ids))):
            q = (
                "SELECT article_id, cluster_id FROM cluster_members "
                f"WHERE article_id IN ({_marks(len(chunk))})"
            )
            out.update(self.conn.execute(q, list(chunk)).fetchall())
        return out

    def replace_clusters(
        self,
        article_ids: Iterable[str],
        members: Sequence[tuple[str, str, int, float | None, float | None, str | None, int]],
        clusters: Sequence[tuple[str, str, int, int, int]],
    ) -> None:
        """Drop the cluster rows of `article_ids` (and their now empty clusters), write new
        ones: members (article_id, cluster_id, is_representative, share, similarity,
        exact_duplicate_of, is_container), clusters (cluster_id, representative, size,
        exact_duplicates, containers)."""
        ids = sorted(set(article_ids))
        old: set[str] = set()
        for chunk in _chunks(ids):
            marks = _marks(len(chunk))
            old.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT cluster_id FROM cluster_members WHERE article_id IN ({marks})",
                    list(chunk),
                )
            )
            self.conn.execute(
                f"DELETE FROM cluster_members WHERE article_id IN ({marks})", list(chunk)
            )
        for chunk in _chunks(sorted(old)):
            self.conn.execute(
                f"DELETE FROM clusters WHERE cluster_id IN ({_marks(len(chunk))})", list(chunk)
            )
        self.conn.executemany(
            "INSERT INTO cluster_members (article_id, cluster_id, is_representative, share, "
            "similarity, exact_duplicate_of, is_container) VALUES (?,?,?,?,?,?,?)",
            members,
        )
        self.conn.executemany(
            "INSERT INTO clusters (cluster_id, representative, size, exact_duplicates, containers) "
            "VALUES (?,?,?,?,?)",
            clusters,
        )

    def replace_contains(
        self, ids: Iterable[str], rows: list[tuple[str, str, str, float]]
    ) -> set[str]:
        """Drop links where a container or member is in `ids`, write `rows`; returns the
        clusters the dropped links pointed at (their container counts may change)."""
        dropped: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            marks = _marks(len(chunk))
            where = f"container_id IN ({marks}) OR member_id IN ({marks})"
            dropped.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT DISTINCT cluster_id FROM dedup_contains WHERE {where}", list(chunk) * 2
                )
            )
            self.conn.execute(f"DELETE FROM dedup_contains WHERE {where}", list(chunk) * 2)
        self.conn.executemany(
            "INSERT OR REPLACE INTO dedup_contains (container_id, member_id, cluster_id, share) "
            "VALUES (?,?,?,?)",
            rows,
        )
        return dropped

    def refresh_container_counts(self, cluster_ids: Iterable[str]) -> None:
        for chunk in _chunks(sorted(set(cluster_ids))):
            self.conn.execute(
                "UPDATE clusters SET containers = (SELECT COUNT(DISTINCT container_id) "
                "FROM dedup_contains c WHERE c.cluster_id = clusters.cluster_id) "
                f"WHERE cluster_id IN ({_marks(len(chunk))})",
                list(chunk),
            )

    # -- reading results ------------------------------------------------------------------

    def assignments(self) -> Iterator[tuple[str, str]]:
        """(url, cluster_id) for every clustered article, by url."""
        yield from self.conn.execute(
            "SELECT a.url, m.cluster_id FROM cluster_members m JOIN articles a ON a.id = m.article_id "
            "ORDER BY a.url"
        )

    def container_links(self) -> Iterator[tuple[str, str, float]]:
        yield from self.conn.execute(
            "SELECT a.url, c.cluster_id, c.share FROM cluster_containers c "
            "JOIN articles a ON a.id = c.container_id ORDER BY a.url, c.cluster_id"
        )

    def largest_clusters(
        self, limit: int
    ) -> list[tuple[str, int, int, int, str | None, str | None]]:
        return self.conn.execute(
            "SELECT c.cluster_id, c.size, c.exact_duplicates, c.containers, a.outlet, a.title "
            "FROM clusters c LEFT JOIN articles a ON a.id = c.representative "
            "ORDER BY c.size DESC, c.cluster_id LIMIT ?",
            [limit],
        ).fetchall()

    def counts(self) -> dict[str, int]:
        q = {
            "articles_indexed": "SELECT COUNT(*) FROM dedup_signatures",
            "clusters": "SELECT COUNT(*) FROM clusters",
            "multi_clusters": "SELECT COUNT(*) FROM clusters WHERE size > 1",
            "containers": "SELECT COUNT(DISTINCT container_id) FROM dedup_contains",
            "pairs": "SELECT COUNT(*) FROM dedup_pairs",
        }
        return {k: int(self.conn.execute(v).fetchone()[0]) for k, v in q.items()}


def blob_u32(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype="<u4").tobytes()


def u32_blob(b: bytes) -> np.ndarray:
    """A read-only view of the blob (a copy only on a big-endian machine)."""
    return np.frombuffer(b, dtype="<u4").astype(np.uint32, copy=False)

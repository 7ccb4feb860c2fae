"""The SQLite store: the only module of `crawler/` that touches the database.

Every stage reads and writes named tables here, so each step can be inspected in
Datasette and rerun alone. Writes are idempotent: an article's id is derived from
its canonical URL, so the same article stored twice is one row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils
import xxhash

if TYPE_CHECKING:
    from crawler.export import ExportFilter

SCHEMA_VERSION = 1

# Page size of a database this module creates (an existing one keeps its own). At
# SQLite's default, 4 KiB, a page held two rows of `dedup_signatures` when they carried
# each article's shingles (about 1.8 KB each; without them, since, about 400 bytes), at
# 16 KiB nine: a dedup run wrote fewer pages (twice, to the WAL and then the file) and
# took about 10% less CPU at 100k and 1M articles, in a 7% smaller file
# (bench/dedup_bench.py; README, "Speed"); an article's row is about 4 KB in its corpus. Small
# transactions (a crawl's batch) write whole pages to the WAL, so much larger pages
# would cost them more.
PAGE_SIZE = 16384

# Columns of `articles`, in table order. Lists (authors, agencies, keywords) are stored
# as JSON arrays so Datasette can facet on them (`_facet_array=agencies`).
ARTICLE_COLUMNS: dict[str, type] = {
    "id": str,  # xxh64 of the canonical URL, 16 hex digits
    "url": str,  # canonical URL
    "outlet": str,  # outlets.id
    "title": str,
    "text": str,  # cleaned body text, paragraphs separated by blank lines
    "published": str,  # ISO 8601 with time zone, or NULL when unknown
    "modified": str,
    "fetched": str,  # ISO 8601 UTC, when this copy was fetched or ingested
    "language": str,  # ISO 639-1
    "authors": str,  # JSON list
    "agencies": str,  # JSON list of normalized agency names credited in the text
    "site_name": str,
    "description": str,
    "keywords": str,  # JSON list
    "image": str,
    "paywall": int,  # 1 behind a paywall, 0 free, NULL unknown
    "source": str,  # crawl | ingest
}
JSON_COLUMNS = ("authors", "agencies", "keywords")


def article_id(url: str) -> str:
    """Stable id of an article: xxh64 of its canonical URL as 16 hex digits."""
    return xxhash.xxh64_hexdigest(url.encode("utf-8"))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# SQLite errors that say something about the database file or the machine, not about the
# code: shown as one line. Any other error keeps its traceback (it is a bug to report).
_FILE_ERRORS = (
    "database is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
    "attempt to write a readonly database",
)


def database_problem(db: str | Path, exc: sqlite3.DatabaseError) -> str | None:
    """The one line to show for `exc` on database `db`, or None when it is no fault of
    the file or the machine (a bug, whose traceback is the report)."""
    if type(exc) is sqlite3.DatabaseError:  # "file is not a database", "malformed"
        return f"{db}: not a usable SQLite database ({exc})"
    if str(exc).lower() in _FILE_ERRORS:
        return f"{db}: {exc}"
    return None


class Store:
    """One SQLite file (WAL mode) holding outlets, articles, the fetch log and crawl runs."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such database")
        # isolation_level=None: autocommit; transactions are opened explicitly in
        # `transaction()` so one batch is one commit and a SIGKILL loses at most it.
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            # (a new file: the page size is fixed when the first table is written)
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across process crashes in WAL mode; only an OS crash
        # may lose the last transactions (https://sqlite.org/pragma.html#pragma_synchronous).
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        self.ensure_schema()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------

    def ensure_schema(self) -> None:
        db = self.db
        with self.transaction():
            if "outlets" not in db.table_names():
                db.table("outlets").create(
                    {
                        "id": str,
                        "name": str,
                        "homepage": str,
                        "country": str,
                        "language": str,
                        "feeds": str,
                        "news_sitemaps": str,
                        "sitemaps": str,
                        "allow": str,
                        "deny": str,
                    },
                    pk="id",
                )
            if "articles" not in db.table_names():
                db.table("articles").create(ARTICLE_COLUMNS, pk="id", not_null={"url", "outlet"})
                db.table("articles").create_index(["url"], unique=True)
                db.table("articles").create_index(["outlet", "published"])
                db.table("articles").create_index(["published"])
                db.table("articles").enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")
            # Covers the `newsdedup serve` queries and facets that read articles by time,
            # outlet, agency and language: in the table these columns sit after `text`, on
            # its overflow pages.
            self.conn.execute(
                "CREATE INDEX IF NOT EXISTS idx_articles_serve "
                "ON articles(published, outlet, agencies, language, id)"
            )
            if "fetch_log" not in db.table_names():
                db.table("fetch_log").create(
                    {
                        "id": int,
                        "run_id": int,  # crawl_runs.id, NULL for ingest
                        "time": str,
                        "outlet": str,
                        "url": str,
                        "kind": str,  # robots | feed | news_sitemap | sitemap | homepage | article
                        "status": int,  # HTTP status, NULL when no response
                        "outcome": str,  # stored | skipped | failed | not_modified | ok
                        "reason": str,  # why skipped or failed, machine-readable
                        "detail": str,  # one human line
                    },
                    pk="id",
                )
                db.table("fetch_log").create_index(["run_id", "outlet"])
                db.table("fetch_log").create_index(["url"])
            if "crawl_runs" not in db.table_names():
                db.table("crawl_runs").create(
                    {
                        "id": int,
                        "started": str,
                        "finished": str,
                        "status": str,  # running | ok | failed | interrupted
                        "command": str,
                        "since": str,
                        "outlets": int,
                        "discovered": int,
                        "fetched": int,
                        "stored": int,
                        "skipped": int,
                        "failed": int,
                        "requests": int,
                        "error": str,
                    },
                    pk="id",
                )
            if "crawl_run_outlets" not in db.table_names():
                db.table("crawl_run_outlets").create(
                    {
                        "run_id": int,
                        "outlet": str,
                        "discovered": int,
                        "fetched": int,
                        "stored": int,
                        "skipped": int,
                        "failed": int,
                        "skipped_by_reason": str,  # JSON {reason: count}
                        "failed_by_reason": str,  # JSON {reason: count}
                    },
                    pk=("run_id", "outlet"),
                    foreign_keys=[("run_id", "crawl_runs", "id")],
                )
            if "http_cache" not in db.table_names():
                # Validators for conditional GET of feeds and sitemaps.
                db.table("http_cache").create(
                    {"url": str, "etag": str, "last_modified": str, "checked": str, "status": int},
                    pk="url",
                )
            if "known_urls" not in db.table_names():
                # URLs that are not fetched again although no article row has them: the
                # listed URL of an article stored under its canonical URL, and pages that
                # turned out not to be articles (index pages, consent walls ...).
                db.table("known_urls").create(
                    {"url": str, "article_url": str, "reason": str, "time": str}, pk="url"
                )
            if "outlet_tdm" not in db.table_names():
                # What each outlet says to text-and-data-mining and AI crawlers, as of the
                # last crawl (crawler/tdm.py); `newsdedup export` leaves opted-out outlets out.
                db.table("outlet_tdm").create(
                    {
                        "outlet": str,
                        "checked": str,  # ISO 8601 UTC of the last check
                        "opted_out": int,  # 1 any signal below reserves TDM rights, else 0
                        "reasons": str,  # JSON list of one-line reasons
                        "robots_status": int,  # HTTP status of robots.txt, NULL when unreachable
                        "robots_disallowed": str,  # JSON list of AI/TDM agents robots.txt shuts out
                        "tdmrep_status": int,  # HTTP status of /.well-known/tdmrep.json
                        "tdmrep": str,  # JSON: its rules when it parsed
                        "header_reservation": str,  # a `tdm-reservation` header value seen
                        "header_policy": str,  # the `tdm-policy` header beside it
                        "header_url": str,  # the first response that carried it
                    },
                    pk="outlet",
                )
            if "meta" not in db.table_names():
                db.table("meta").create({"key": str, "value": str}, pk="key")
                db.table("meta").insert({"key": "schema_version", "value": str(SCHEMA_VERSION)})

    # -- transactions -------------------------------------------------------------

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn
            self.outer = False

        def __enter__(self) -> None:
            self.outer = not self.conn.in_transaction
            if self.outer:
                self.conn.execute("BEGIN IMMEDIATE")

        def __exit__(self, exc_type: object, *exc: object) -> None:
            if not self.outer:
                return
            if exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")

    def transaction(self) -> _Tx:
        """`with store.transaction():` one commit for everything inside (nests)."""
        return Store._Tx(self.conn)

    # -- outlets --------------------------------------------------------------------

    def upsert_outlets(self, outlets: Iterable[dict[str, Any]]) -> None:
        rows = []
        for o in outlets:
            row = dict(o)
            for key in ("feeds", "news_sitemaps", "sitemaps", "allow", "deny"):
                if isinstance(row.get(key), list | tuple):
                    row[key] = json.dumps(list(row[key]), ensure_ascii=False)
            rows.append(row)
        with self.transaction():
            self.db.table("outlets").upsert_all(rows, pk="id", alter=True)

    # -- articles -------------------------------------------------------------------

    @staticmethod
    def _article_row(article: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {k: article.get(k) for k in ARTICLE_COLUMNS}
        if not row["id"]:
            row["id"] = article_id(str(row["url"]))
        for key in JSON_COLUMNS:
            value = row[key]
            if isinstance(value, list | tuple):
                row[key] = json.dumps(list(value), ensure_ascii=False)
        if isinstance(row["paywall"], bool):
            row["paywall"] = int(row["paywall"])
        if not row["fetched"]:
            row["fetched"] = now_iso()
        return row

    def upsert_articles(self, articles: Iterable[dict[str, Any]], batch_size: int = 500) -> int:
        """Insert or replace articles by id; one transaction per batch. Returns the count."""
        n = 0
        batch: list[dict[str, Any]] = []
        for article in articles:
            batch.append(self._article_row(article))
            if len(batch) >= batch_size:
                n += self._write_articles(batch)
                batch = []
        if batch:
            n += self._write_articles(batch)
        return n

    def upsert_article(self, article: dict[str, Any]) -> str:
        row = self._article_row(article)
        self._write_articles([row])
        return str(row["id"])

    def _write_articles(self, rows: list[dict[str, Any]]) -> int:
        with self.transaction():
            self.db.table("articles").upsert_all(rows, pk="id")
        return len(rows)

    def known(self, urls: Iterable[str]) -> set[str]:
        """Those of `urls` not to fetch again: stored articles and `known_urls` entries."""
        urls = list(urls)
        found: set[str] = set()
        for i in range(0, len(urls), 500):
            chunk = urls[i : i + 500]
            marks = ",".join("?" * len(chunk))
            q = (f"SELECT url FROM articles WHERE url IN ({marks}) "
                 f"UNION SELECT url FROM known_urls WHERE url IN ({marks})")
            found.update(r[0] for r in self.conn.execute(q, chunk + chunk))
        return found

    def remember_url(self, url: str, *, reason: str, article_url: str | None = None) -> None:
        """Record `url` as not to be fetched again (see the `known_urls` table)."""
        with self.transaction():
            self.db.table("known_urls").upsert(
                {"url": url, "article_url": article_url, "reason": reason, "time": now_iso()},
                pk="url",
            )

    def iter_articles(self, columns: str = "*", where: str | None = None) -> Iterator[dict]:
        sql = f"SELECT {columns} FROM articles" + (f" WHERE {where}" if where else "")
        cur = self.conn.execute(sql)
        names = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(names, row, strict=True))

    # -- fetch log and runs ---------------------------------------------------------

    def log_fetches(self, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            with self.transaction():
                self.db.table("fetch_log").insert_all(rows)

    def start_run(self, *, command: str, since: str | None, outlets: int) -> int:
        with self.transaction():
            table = self.db.table("crawl_runs")
            table.insert(
                {
                    "started": now_iso(),
                    "status": "running",
                    "command": command,
                    "since": since,
                    "outlets": outlets,
                }
            )
            return int(table.last_pk)  # type: ignore[arg-type]  # set by insert()

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        per_outlet: dict[str, dict[str, Any]],
        requests: int = 0,
        error: str | None = None,
    ) -> dict[str, Any]:
        """Record a run's end and its per-outlet counts; returns the run's totals."""
        totals = {k: 0 for k in ("discovered", "fetched", "stored", "skipped", "failed")}
        rows = []
        for outlet, counts in sorted(per_outlet.items()):
            row: dict[str, Any] = {"run_id": run_id, "outlet": outlet}
            for key in totals:
                row[key] = n = int(counts.get(key, 0))
                totals[key] += n
            row["skipped_by_reason"] = json.dumps(counts.get("skipped_by_reason", {}), sort_keys=True)
            row["failed_by_reason"] = json.dumps(counts.get("failed_by_reason", {}), sort_keys=True)
            rows.append(row)
        with self.transaction():
            if rows:
                self.db.table("crawl_run_outlets").upsert_all(rows, pk=("run_id", "outlet"))
            self.db.table("crawl_runs").update(
                run_id,
                {"finished": now_iso(), "status": status, "requests": requests, "error": error, **totals},
            )
        return totals

    def mark_interrupted_runs(self) -> int:
        """Runs left 'running' by a killed process are marked interrupted."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE crawl_runs SET status = 'interrupted' WHERE status = 'running'"
            )
        return cur.rowcount

    # -- conditional GET validators --------------------------------------------------

    def validators(self, url: str) -> dict[str, str]:
        row = self.conn.execute(
            "SELECT etag, last_modified FROM http_cache WHERE url = ?", [url]
        ).fetchone()
        if not row:
            return {}
        return {k: v for k, v in (("etag", row[0]), ("last_modified", row[1])) if v}

    def save_validators(self, url: str, *, etag: str | None, last_modified: str | None, status: int) -> None:
        with self.transaction():
            self.db.table("http_cache").upsert(
                {
                    "url": url,
                    "etag": etag,
                    "last_modified": last_modified,
                    "checked": now_iso(),
                    "status": status,
                },
                pk="url",
            )

    # -- text-and-data-mining opt-outs (crawler/tdm.py decides, this stores) ---------------

    def save_tdm(self, row: dict[str, Any]) -> None:
        """Insert or replace one outlet's `outlet_tdm` row; lists are stored as JSON."""
        row = dict(row)
        for key in ("reasons", "robots_disallowed", "tdmrep"):
            if row.get(key) is not None and not isinstance(row[key], str):
                row[key] = json.dumps(row[key], ensure_ascii=False)
        row.setdefault("checked", now_iso())
        with self.transaction():
            self.db.table("outlet_tdm").upsert(row, pk="outlet", alter=True)

    def tdm_row(self, outlet: str) -> dict[str, Any] | None:
        cur = self.conn.execute("SELECT * FROM outlet_tdm WHERE outlet = ?", [outlet])
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None

    def tdm_opted_out(self) -> dict[str, str]:
        """Outlet -> its reasons (one line) for every outlet with a TDM opt-out."""
        rows = self.conn.execute(
            "SELECT outlet, reasons FROM outlet_tdm WHERE opted_out = 1 ORDER BY outlet"
        )
        return {o: "; ".join(json.loads(r or "[]")) for o, r in rows}

    # -- export (read only; the dedup tables as dedup/store.py describes them) --------------

    def _has_table(self, name: str) -> bool:
        q = "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?"
        return self.conn.execute(q, [name]).fetchone() is not None

    @staticmethod
    def _why_left_out(f: ExportFilter) -> tuple[str, list[Any]]:
        """A CASE expression over `articles a`: NULL when the article is exported, else the
        first reason (crawler.export.REASONS) it is not."""
        whens: list[str] = []
        params: list[Any] = []
        if not f.include_opted_out:
            whens.append("a.outlet IN (SELECT outlet FROM outlet_tdm WHERE opted_out = 1) "
                         "THEN 'tdm_opt_out'")
        if f.outlets:
            whens.append(f"a.outlet NOT IN ({_marks(len(f.outlets))}) THEN 'outlet'")
            params += list(f.outlets)
        if f.languages:
            whens.append(f"lower(COALESCE(a.language, '')) NOT IN ({_marks(len(f.languages))}) "
                         "THEN 'language'")
            params += [x.lower() for x in f.languages]
        if f.agencies:
            whens.append(
                "NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(a.agencies) "
                "THEN a.agencies ELSE '[]' END) j WHERE lower(j.value) IN "
                f"({_marks(len(f.agencies))})) THEN 'agency'"
            )
            params += [x.lower() for x in f.agencies]
        if f.since or f.until:
            # julianday() reads the offset, so +01:00 and Z times compare as instants.
            whens.append("julianday(a.published) IS NULL THEN 'no_date'")
        if f.since:
            whens.append("julianday(a.published) < julianday(?) THEN 'window'")
            params.append(f.since)
        if f.until:
            whens.append("julianday(a.published) >= julianday(?) THEN 'window'")
            params.append(f.until)
        whens.append("trim(COALESCE(a.text, '')) = '' THEN 'no_text'")
        return "CASE WHEN " + " WHEN ".join(whens) + " END", params

    def export_counts(self, f: ExportFilter) -> dict[str, int]:
        """{"stored": all articles, reason: articles left out for it} (one scan)."""
        why, params = self._why_left_out(f)
        out = {"stored": 0}
        q = f"SELECT {why} AS why, count(*) FROM articles a GROUP BY why"
        for reason, n in self.conn.execute(q, params):
            out["stored"] += n
            if reason is not None:
                out[reason] = n
        return out

    def export_selection(self, f: ExportFilter, *, one_per_cluster: bool) -> Iterator[tuple[str, str | None]]:
        """(article id, cluster id or None) of the exported articles, earliest published
        first (undated last), then by id. With `one_per_cluster`, per cluster its
        representative when selected, else its earliest selected member."""
        why, params = self._why_left_out(f)
        clustered = self._has_table("cluster_members")
        join = "LEFT JOIN cluster_members m ON m.article_id = a.id" if clustered else ""
        cid = "m.cluster_id" if clustered else "NULL"
        rep = "COALESCE(m.is_representative, 1)" if clustered else "1"
        t = "julianday(a.published)"
        if one_per_cluster:
            q = (
                f"SELECT id, cid FROM (SELECT a.id AS id, {cid} AS cid, {t} AS t, ROW_NUMBER() OVER "
                f"(PARTITION BY COALESCE({cid}, a.id) ORDER BY {rep} DESC, {t} IS NULL, {t}, a.id) AS rn "
                f"FROM articles a {join} WHERE ({why}) IS NULL) WHERE rn = 1 ORDER BY t IS NULL, t, id"
            )
        else:
            q = (f"SELECT a.id, {cid} FROM articles a {join} WHERE ({why}) IS NULL "
                 f"ORDER BY {t} IS NULL, {t}, a.id")
        yield from self.conn.execute(q, params)

    def export_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The exported columns of these articles, with their cluster size (NULL: none)."""
        clustered = self._has_table("clusters") and self._has_table("cluster_members")
        size = "c.size" if clustered else "NULL"
        join = ("LEFT JOIN cluster_members m ON m.article_id = a.id "
                "LEFT JOIN clusters c ON c.cluster_id = m.cluster_id") if clustered else ""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            cur = self.conn.execute(
                "SELECT a.id, a.url, a.outlet, a.title, a.text, a.published, a.language, "
                f"a.agencies, {size} AS cluster_size FROM articles a {join} "
                f"WHERE a.id IN ({_marks(len(chunk))})", chunk)
            names = [d[0] for d in cur.description]
            for row in cur:
                out[row[0]] = dict(zip(names, row, strict=True))
        return out

    def cluster_member_urls(self, cluster_ids: list[str]) -> dict[str, list[str]]:
        """Cluster id -> its members' URLs, earliest published first."""
        out: dict[str, list[str]] = {}
        ids = sorted(set(cluster_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            q = ("SELECT m.cluster_id, a.url FROM cluster_members m JOIN articles a ON a.id = m.article_id "
                 f"WHERE m.cluster_id IN ({_marks(len(chunk))}) "
                 "ORDER BY m.cluster_id, julianday(a.published) IS NULL, julianday(a.published), a.id")
            for cid, url in self.conn.execute(q, chunk):
                out.setdefault(cid, []).append(url)
        return out


def _marks(n: int) -> str:
    return ",".join("?" * n)

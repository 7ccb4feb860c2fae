"""Ingest without HTTP: HTML files, JSONL manifests and already-extracted texts.

The same extract-clean-attribute path as the crawler (crawler.extract), run in worker
processes so both cores work, with the results written by the parent in batches
through crawler.store.Store (one transaction per batch).

Inputs (see `iter_records`):
  - an HTML file (`.html`, `.htm`, optionally `.gz`) or a directory of them;
  - a WARC or ARC file (`.warc.gz`, `.warc`, `.arc.gz`; read by crawler.warc), or a
    directory of them: its HTML responses, under their canonical URL as a crawl stores them;
  - a JSONL manifest (`.jsonl`, `.jsonl.gz`, `.ndjson`) whose lines are
    {"url", "path"} (path relative to the manifest) or {"url", "html"} for pages,
    or {"url", "outlet", "title", "text", "published"} for extracted texts.
A line is a text record when it has "text" and neither "html" nor "path"; `texts=True`
makes every line one (and an error when it has no "text").
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.extract import NotArticle, decode_html, extract_article, extract_text_record
from crawler.store import Store, now_iso
from crawler.urls import canonical_link, canonicalize
from crawler.warc import WarcReport, is_warc, warc_records

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz", ".xhtml")
MANIFEST_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")


class IngestError(ValueError):
    """A user mistake in the inputs (unreadable manifest line, missing field)."""


@dataclass
class Record:
    """One unit of work for a worker: a page (path or html) or an extracted text."""

    kind: str  # "html" | "text"
    url: str | None
    outlet: str | None = None
    path: str | None = None  # HTML file to read (in the worker, so bytes never cross processes)
    html: str | None = None
    title: str | None = None
    text: str | None = None
    published: str | None = None
    source: str = ""  # where the record came from, for error messages: "file.jsonl:12"
    body: bytes | None = None  # raw page bytes (a WARC response), decoded in the worker
    content_type: str | None = None  # the response's Content-Type, for decoding `body`
    canonical: bool = False  # store under the page's rel=canonical URL, as the crawl does
    fetched: str | None = None  # when the page was fetched (WARC-Date), else now


@dataclass
class IngestStats:
    """Counts for the closing summary; `skipped_by_reason` keys are NotArticle reasons."""

    read: int = 0
    stored: int = 0
    skipped: int = 0
    failed: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    failed_by_reason: Counter[str] = field(default_factory=Counter)
    outlets: Counter[str] = field(default_factory=Counter)
    agencies: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0


# -- inputs -------------------------------------------------------------------------


def _open_bytes(path: Path) -> Any:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


# A JSON escape can stand for half of a UTF-16 pair alone ("\ud800"), which neither UTF-8
# nor SQLite text can hold: such a character becomes U+FFFD, as an undecodable byte does.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _mend(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _LONE_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in d.items()}


def _manifest_records(path: Path, *, texts: bool | None) -> Iterator[Record]:
    """The records of a JSONL manifest, line by line. Lines end in LF, CRLF or a lone
    CR (classic Mac files; JSON text holds no raw CR, so one is always a line end).
    Bytes that are not UTF-8 become U+FFFD, as in pages; a file that cannot be read on
    (a corrupt or cut gzip stream) ends in an IngestError naming the line, after the
    records before it."""
    n = 0
    with _open_bytes(path) as f:
        while True:
            try:
                raw = f.readline()
            except (OSError, EOFError, zlib.error) as e:
                raise IngestError(
                    f"{path}:{n + 1}: cannot read on ({e}); the {n} lines before it were read"
                ) from None
            if not raw:
                return
            for part in raw.rstrip(b"\r\n").split(b"\r") if b"\r" in raw else (raw,):
                n += 1
                line = part.decode("utf-8", errors="replace")
                record = _manifest_record(line, f"{path}:{n}", path.parent, texts)
                if record is not None:
                    yield record


def _manifest_record(line: str, where: str, base: Path, texts: bool | None) -> Record | None:
    """One manifest line as a Record (None: a blank line); `where` is file:line."""
    line = line.strip()
    if not line:
        return None
    try:
        d = json.loads(line)
    except ValueError as e:  # a JSONDecodeError, or a number too long to convert
        why = e.msg if isinstance(e, json.JSONDecodeError) else str(e).split(":")[0]
        raise IngestError(f"{where}: not a JSON object ({why}); each line must be one record") from e
    if not isinstance(d, dict):
        raise IngestError(f"{where}: expected a JSON object per line")
    if "\\ud" in line or "\\uD" in line:
        d = _mend(d)
    is_text = texts if texts is not None else ("text" in d and "html" not in d and "path" not in d)
    if is_text:
        if not isinstance(d.get("text"), str):
            raise IngestError(f'{where}: a text record needs "text" (got keys {sorted(d)})')
        return Record(
            "text",
            d.get("url"),
            d.get("outlet"),
            title=d.get("title"),
            text=d["text"],
            published=d.get("published"),
            source=where,
        )
    if isinstance(d.get("html"), str):
        return Record("html", d.get("url"), d.get("outlet"), html=d["html"], source=where)
    if isinstance(d.get("path"), str):
        p = Path(d["path"])
        return Record(
            "html", d.get("url"), d.get("outlet"), path=str(p if p.is_absolute() else base / p),
            source=where,
        )
    raise IngestError(
        f'{where}: a record needs "html", "path" or "text" (got keys {sorted(d)}); '
        "see `newsdedup ingest --help`"
    )


def iter_records(
    inputs: Iterable[str | Path],
    *,
    texts: bool | None = None,
    warc_reports: list[WarcReport] | None = None,
) -> Iterator[Record]:
    """Records from files, directories and manifests, in the order given.

    Each WARC file read appends its `WarcReport` (counts, damage) to `warc_reports`.
    """
    for item in inputs:
        path = Path(item)
        name = path.name.lower()
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and p.name.lower().endswith(HTML_SUFFIXES):
                    yield Record("html", None, path=str(p), source=str(p))
                elif p.is_file() and is_warc(p):
                    yield from _warc(p, warc_reports)
        elif not path.exists():
            raise IngestError(f"{path}: no such file or directory")
        elif is_warc(path):
            yield from _warc(path, warc_reports)
        elif name.endswith(MANIFEST_SUFFIXES) or texts:
            yield from _manifest_records(path, texts=texts)
        elif name.endswith(HTML_SUFFIXES):
            yield Record("html", None, path=str(path), source=str(path))
        else:
            raise IngestError(
                f"{path}: unknown input type; give .html/.htm files (optionally .gz), "
                ".warc.gz/.arc.gz files, directories of them, or .jsonl manifests"
            )


def _warc(path: Path, reports: list[WarcReport] | None) -> Iterator[Record]:
    report = WarcReport(str(path))
    if reports is not None:
        reports.append(report)
    yield from warc_records(path, report)


# -- the work (runs in worker processes) ---------------------------------------------


def outlet_from_url(url: str) -> str:
    """`https://www.spiegel.de/x` -> `spiegel.de`; the outlet id when none is given."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or "local"


def _read_html(path: str) -> str:
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return decode_html(data)


def process(record: Record, outlet_override: str | None = None) -> dict[str, Any]:
    """Extract one record: {"row": article row} or {"log": fetch_log row}. Never raises."""
    url = record.url
    try:
        if record.kind == "text":
            ex = extract_text_record(
                record.text or "", title=record.title, published=record.published
            )
            if not url:
                raise IngestError(f'{record.source}: a text record needs "url"')
        else:
            if record.body is not None:
                html = decode_html(record.body, record.content_type)
            else:
                html = record.html if record.html is not None else _read_html(record.path or "")
            if record.canonical and url:
                url = canonical_link(html, url) or canonicalize(url) or url
            ex = extract_article(html, url or "")
            if not url:
                # A bare file: the page's own canonical URL names it, else its path.
                url = ex.canonical_url or Path(record.path or "page").resolve().as_uri()
        outlet = outlet_override or record.outlet or outlet_from_url(url)
        row = ex.to_row(url, outlet)
        row["fetched"] = record.fetched or now_iso()
        if record.kind == "html":
            # What the feed listed, where the page itself says nothing (as the crawl does).
            row["title"] = row.get("title") or record.title
            row["published"] = row.get("published") or record.published
        return {"row": row}
    except NotArticle as e:
        outcome, reason, detail = "skipped", e.reason, e.detail
    except (OSError, IngestError) as e:
        outcome, reason, detail = "failed", "read_error", str(e)
    except Exception as e:  # noqa: BLE001 - one bad page must not end a long ingest
        outcome, reason, detail = "failed", "extract_error", f"{type(e).__name__}: {e}"
    url = url or (Path(record.path).resolve().as_uri() if record.path else record.source)
    return {
        "log": {
            "run_id": None,
            "time": now_iso(),
            "outlet": outlet_override or record.outlet or outlet_from_url(url),
            "url": url,
            "kind": "article",
            "status": None,
            "outcome": outcome,
            "reason": reason,
            "detail": (detail or "")[:300],
        }
    }


def _process_star(args: tuple[Record, str | None]) -> dict[str, Any]:
    return process(*args)


# -- the driver ----------------------------------------------------------------------------


def ingest(
    store: Store,
    records: Iterable[Record],
    *,
    workers: int | None = None,
    outlet: str | None = None,
    batch_size: int = 200,
    progress: Callable[[IngestStats], None] | None = None,
) -> IngestStats:
    """Extract `records` on `workers` processes and store them; returns the counts.

    Order of results follows the input (imap), so a rerun writes the same rows.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    stats = IngestStats()
    start = time.monotonic()
    rows: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    known_outlets = {r[0] for r in store.conn.execute("SELECT id FROM outlets")}

    def flush() -> None:
        if rows:
            new = sorted({r["outlet"] for r in rows} - known_outlets)
            if new:
                store.upsert_outlets({"id": o, "name": o} for o in new)
                known_outlets.update(new)
            stats.stored += store.upsert_articles(rows, batch_size=batch_size)
            rows.clear()
        if logs:
            store.log_fetches(logs)
            logs.clear()

    def consume(result: dict[str, Any]) -> None:
        stats.read += 1
        if "row" in result:
            row = result["row"]
            rows.append(row)
            stats.outlets[row["outlet"]] += 1
            stats.agencies.update(row.get("agencies") or [])
        else:
            log = result["log"]
            logs.append(log)
            if log["outcome"] == "skipped":
                stats.skipped += 1
                stats.skipped_by_reason[log["reason"]] += 1
            else:
                stats.failed += 1
                stats.failed_by_reason[log["reason"]] += 1
        if len(rows) + len(logs) >= batch_size:
            flush()
        if progress is not None:
            stats.elapsed = time.monotonic() - start
            progress(stats)

    # An input that ends in an IngestError (a damaged manifest) ends the ingest after
    # every record before it is stored: the error is raised once the workers are done.
    failure: list[IngestError] = []

    def jobs_until_failure() -> Iterator[tuple[Record, str | None]]:
        try:
            for r in records:
                yield r, outlet
        except IngestError as e:
            failure.append(e)

    jobs = jobs_until_failure()
    try:
        if workers == 1:
            for job in jobs:
                consume(_process_star(job))
        else:
            # spawn-safe "forkserver" is slower to start; fork is fine here: workers only
            # run pure extraction and never touch the parent's SQLite connection.
            ctx = get_context("fork") if hasattr(os, "fork") else get_context()
            with ctx.Pool(workers) as pool:
                for result in pool.imap(_process_star, jobs, chunksize=4):
                    consume(result)
    finally:
        flush()  # (on Ctrl-C too: what was extracted is stored)
    if failure:
        raise failure[0]
    stats.elapsed = time.monotonic() - start
    return stats

"""Export a deduplicated corpus: JSONL (plain, .gz, .zst), Parquet or CSV.

The rows come from `crawler.store.Store` (the only module that reads SQLite) in
published-then-id order, a batch at a time; this module filters nothing itself but
turns batches into records, removes repeated paragraphs (`--dedup passage`) and writes
them. Output goes to a temporary file beside OUT that is renamed to OUT only when
everything is written, so a killed export or a full disk never leaves a file that
looks complete.

Dedup modes:
  none     every selected article;
  cluster  one article per cluster: the cluster's representative (see dedup/store.py)
           when it is selected, else the earliest selected member, with the cluster's
           size and its members' URLs;
  passage  every selected article with the paragraphs already exported in an earlier
           article (published time, then id) removed, compared after the dedup's
           normalization (`dedup.normalize.clean_line`); articles left empty are dropped.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import xxhash

from dedup.normalize import clean_line
from dedup.normalize import words as split_words

if TYPE_CHECKING:
    from crawler.store import Store

FORMATS = ("jsonl", "parquet", "csv")
DEDUP_MODES = ("none", "cluster", "passage")
# Extensions -> (format, compression); the longest match wins.
EXTENSIONS = {
    ".jsonl": ("jsonl", None),
    ".ndjson": ("jsonl", None),
    ".jsonl.gz": ("jsonl", "gzip"),
    ".ndjson.gz": ("jsonl", "gzip"),
    ".jsonl.zst": ("jsonl", "zstd"),
    ".ndjson.zst": ("jsonl", "zstd"),
    ".parquet": ("parquet", None),
    ".pq": ("parquet", None),
    ".csv": ("csv", None),
    ".csv.gz": ("csv", "gzip"),
    ".csv.zst": ("csv", "zstd"),
}
# Why a stored article is not in the export; the summary prints them in this order.
REASONS = {
    "tdm_opt_out": "outlet opted out of text and data mining",
    "outlet": "not one of --outlet",
    "language": "not one of --language",
    "agency": "credits none of --agency",
    "no_date": "no published date (a --since/--until window is set)",
    "window": "published outside --since/--until",
    "no_text": "no text",
    "same_cluster": "another article of its cluster exported (--dedup cluster)",
    "all_repeated": "every paragraph already exported (--dedup passage)",
}


class ExportError(ValueError):
    """A user mistake or an environment problem, said in one line."""


@dataclass(frozen=True)
class ExportFilter:
    """Which stored articles to export; every field narrows the selection."""

    since: str | None = None  # ISO 8601 UTC; published at or after (inclusive)
    until: str | None = None  # ISO 8601 UTC; published before (exclusive)
    outlets: tuple[str, ...] = ()  # outlets.id values; empty: all
    languages: tuple[str, ...] = ()  # ISO 639-1; empty: all
    agencies: tuple[str, ...] = ()  # credited agency, case-insensitive; empty: all
    include_opted_out: bool = False  # keep outlets with a TDM opt-out (outlet_tdm)


@dataclass
class ExportSummary:
    """What an export wrote and what it left out; printed by `newsdedup export`."""

    path: str
    format: str
    compression: str | None
    dedup: str
    written: int = 0  # records in the file
    stored: int = 0  # articles in the database
    left_out: Counter[str] = field(default_factory=Counter)  # REASONS key -> articles
    opted_out_outlets: dict[str, str] = field(default_factory=dict)  # outlet -> why, left out
    unclustered: int = 0  # exported records whose article has no cluster yet (singletons)
    paragraphs_kept: int = 0  # passage mode
    paragraphs_removed: int = 0  # passage mode
    bytes: int = 0
    elapsed: float = 0.0


# -- arguments -------------------------------------------------------------------------


def format_of(path: str | Path, explicit: str | None = None) -> tuple[str, str | None]:
    """(format, compression) of an output path; `explicit` (--format) wins over the extension."""
    name = Path(path).name.lower()
    compression = "gzip" if name.endswith(".gz") else "zstd" if name.endswith(".zst") else None
    if explicit:
        if explicit not in FORMATS:
            raise ExportError(f"--format {explicit!r}: choose one of {', '.join(FORMATS)}")
        if explicit == "parquet" and compression:
            raise ExportError(f"{path}: Parquet compresses its own columns; drop the .gz/.zst")
        return explicit, compression
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(ext):
            return EXTENSIONS[ext]
    raise ExportError(
        f"{path}: cannot tell the format from the extension; use .jsonl, .jsonl.gz, .jsonl.zst, "
        ".parquet or .csv, or pass --format"
    )


def parse_when(value: str | None, *, option: str, now: datetime | None = None) -> str | None:
    """'6h', '2d', '90m', '1w', an ISO date or datetime -> ISO 8601 UTC, or None."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    value = value.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mhdw])", value)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        when = now - timedelta(**{unit: float(m.group(1))})
    else:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ExportError(
                f"{option} {value!r}: give a duration such as 6h or 2d, or a date such as 2025-03-14"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


# -- records ---------------------------------------------------------------------------

COLUMNS = ("id", "url", "outlet", "title", "text", "published", "language", "agencies",
           "cluster_id", "cluster_size")
EXTRA_COLUMNS = {"cluster": ("member_urls",), "passage": ("paragraphs_removed",), "none": ()}
LIST_COLUMNS = ("agencies", "member_urls")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def columns(mode: str) -> tuple[str, ...]:
    return COLUMNS + EXTRA_COLUMNS[mode]


def paragraph_key(paragraph: str) -> int | None:
    """xxh3 of a paragraph's words after the dedup's normalization; None when it has none."""
    words = split_words(clean_line(paragraph))
    if not words:
        return None
    return xxhash.xxh3_64_intdigest(" ".join(words).encode("utf-8"))


class PassageFilter:
    """Drops paragraphs seen in an earlier article: a set of 64-bit hashes, nothing else."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.kept = 0
        self.removed = 0

    def __call__(self, text: str) -> tuple[str, int]:
        """(the text with repeated paragraphs removed, how many were removed)."""
        kept: list[str] = []
        removed = 0
        for para in PARAGRAPH_BREAK.split(text.strip()):
            key = paragraph_key(para)
            if key is not None:
                if key in self.seen:
                    removed += 1
                    continue
                self.seen.add(key)
            if para.strip():
                kept.append(para.strip())
        self.kept += len(kept)
        self.removed += removed
        return "\n\n".join(kept), removed


# -- writers ---------------------------------------------------------------------------


class _TextWriter:
    """JSONL or CSV into a (possibly compressed) binary stream."""

    def __init__(self, raw: IO[bytes], fmt: str, compression: str | None, cols: tuple[str, ...]):
        self.raw = raw
        if compression == "gzip":
            # mtime=0 and no file name: the same export gives the same bytes. Level 4: about
            # three times faster than gzip's default 6 on news text, ~15% larger.
            self.stream: IO[bytes] = gzip.GzipFile(  # type: ignore[assignment]
                filename="", mode="wb", fileobj=raw, compresslevel=4, mtime=0)
        elif compression == "zstd":
            self.stream = _zstd_open(raw)
        else:
            self.stream = raw
        self.text = io.TextIOWrapper(self.stream, encoding="utf-8", newline="", write_through=False)
        self.fmt = fmt
        self.cols = cols
        if fmt == "csv":
            self.csv = csv.writer(self.text, lineterminator="\n")
            self.csv.writerow(cols)

    def write(self, records: list[dict[str, Any]]) -> None:
        if self.fmt == "jsonl":
            self.text.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        else:
            self.csv.writerows(
                [json.dumps(r[c], ensure_ascii=False) if c in LIST_COLUMNS else r[c] for c in self.cols]
                for r in records
            )

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
        if self.stream is not self.raw:
            self.stream.close()  # writes the gzip/zstd trailer into raw
        self.raw.flush()


def _zstd_open(raw: IO[bytes]) -> IO[bytes]:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    return zstd.ZstdFile(raw, "wb", level=3)  # type: ignore[no-any-return]


class _ParquetWriter:
    """Parquet via pyarrow: one row group per batch, zstd-compressed columns."""

    def __init__(self, raw: IO[bytes], cols: tuple[str, ...]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {"cluster_size": pa.int32(), "paragraphs_removed": pa.int32(),
                 "agencies": pa.list_(pa.string()), "member_urls": pa.list_(pa.string())}
        self.pa = pa
        self.schema = pa.schema([(c, types.get(c, pa.string())) for c in cols])
        self.writer = pq.ParquetWriter(raw, self.schema, compression="zstd")
        self.raw = raw

    def write(self, records: list[dict[str, Any]]) -> None:
        self.writer.write_table(self.pa.Table.from_pylist(records, schema=self.schema))

    def close(self) -> None:
        self.writer.close()
        self.raw.flush()


# -- the export --------------------------------------------------------------------------


def export(
    store: Store,
    out: str | Path,
    *,
    fmt: str | None = None,
    dedup: str = "none",
    filters: ExportFilter | None = None,
    overwrite: bool = False,
    batch_size: int = 2000,
    progress: Callable[[ExportSummary], None] | None = None,
    opener: Callable[[str], IO[bytes]] | None = None,
) -> ExportSummary:
    """Write the selected articles of `store` to `out`; returns what was written and left out.

    Raises ExportError (OUT exists without `overwrite`, an unknown format, a full
    disk); the temporary file is removed on every failure. `opener` opens the
    temporary file for writing (tests pass one that fails like a full disk).
    """
    if dedup not in DEDUP_MODES:
        raise ExportError(f"--dedup {dedup!r}: choose one of {', '.join(DEDUP_MODES)}")
    filters = filters or ExportFilter()
    out = Path(out)
    fmt, compression = format_of(out, fmt)
    if out.is_dir():
        raise ExportError(f"{out}: is a directory; give a file name such as {out / 'corpus.jsonl'}")
    if out.exists() and not overwrite:
        raise ExportError(f"{out}: already exists; pass --overwrite to replace it")
    if not out.parent.exists():
        raise ExportError(f"{out.parent}: no such directory")

    summary = ExportSummary(str(out), fmt, compression, dedup)
    start = time.monotonic()
    counts = store.export_counts(filters)
    summary.stored = counts.pop("stored")
    summary.left_out.update(counts)
    if not filters.include_opted_out:
        summary.opted_out_outlets = store.tdm_opted_out()

    # Beside OUT (same file system, so the rename is atomic), hidden and marked partial.
    try:
        fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    except OSError as e:  # a directory that takes no new files (read-only, /proc, ...)
        raise ExportError(f"{out}: cannot write in {out.parent}/ ({e.strerror or e})") from e
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; OUT gets the usual mode
    try:
        raw = opener(tmp_name) if opener else open(tmp_name, "wb")  # noqa: SIM115
        try:
            cols = columns(dedup)
            writer: _TextWriter | _ParquetWriter = (
                _ParquetWriter(raw, cols) if fmt == "parquet"
                else _TextWriter(raw, fmt, compression, cols)
            )
            for batch in _records(store, filters, dedup, summary, batch_size):
                writer.write(batch)
                summary.written += len(batch)
                if progress is not None:
                    summary.elapsed = time.monotonic() - start
                    progress(summary)
            writer.close()
            os.fsync(raw.fileno())
        finally:
            raw.close()
        _publish(tmp, out, overwrite)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if _is_disk_full(e):
            raise ExportError(
                f"{out}: the disk is full (after {summary.written} records); nothing was written, "
                "the partial file is removed; free space or export elsewhere"
            ) from e
        raise ExportError(f"{out}: {e.strerror or e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    summary.bytes = out.stat().st_size
    summary.elapsed = time.monotonic() - start
    return summary


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _is_disk_full(e: BaseException) -> bool:
    seen: BaseException | None = e
    while seen is not None:  # pyarrow wraps the Python error it got from the file
        if getattr(seen, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return True
        if "No space left on device" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _publish(tmp: Path, out: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, out)
        return
    try:
        os.link(tmp, out)  # fails if OUT appeared meanwhile: never replaces a file silently
    except FileExistsError:
        raise ExportError(f"{out}: already exists; pass --overwrite to replace it") from None
    except OSError:
        if out.exists():
            raise ExportError(f"{out}: already exists; pass --overwrite to replace it") from None
        os.replace(tmp, out)  # a file system without hard links
        return
    tmp.unlink()


def _records(
    store: Store, filters: ExportFilter, mode: str, summary: ExportSummary, batch_size: int
) -> Iterator[list[dict[str, Any]]]:
    passage = PassageFilter() if mode == "passage" else None
    picked = 0
    for batch in _batched(store.export_selection(filters, one_per_cluster=mode == "cluster"),
                          batch_size):
        picked += len(batch)
        ids = [aid for aid, _ in batch]
        rows = store.export_rows(ids)
        members = store.cluster_member_urls([c for _, c in batch if c]) if mode == "cluster" else {}
        records: list[dict[str, Any]] = []
        for aid, cluster_id in batch:
            row = rows[aid]
            rec = {
                "id": aid,
                "url": row["url"],
                "outlet": row["outlet"],
                "title": row["title"],
                "text": row["text"] or "",
                "published": row["published"],
                "language": row["language"],
                "agencies": _json_list(row["agencies"]),
                "cluster_id": cluster_id or aid,
                "cluster_size": row["cluster_size"] or 1,
            }
            if cluster_id is None:
                summary.unclustered += 1
            if mode == "cluster":
                rec["member_urls"] = members.get(cluster_id, [row["url"]]) if cluster_id else [row["url"]]
            elif passage is not None:
                rec["text"], rec["paragraphs_removed"] = passage(rec["text"])
                if not rec["text"]:
                    summary.left_out["all_repeated"] += 1
                    continue
            records.append(rec)
        if records:
            yield records
    if passage is not None:
        summary.paragraphs_kept, summary.paragraphs_removed = passage.kept, passage.removed
    if mode == "cluster":
        selected = summary.stored - sum(summary.left_out.values())
        summary.left_out["same_cluster"] += selected - picked


def _batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def _json_list(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        items = json.loads(value)
    except ValueError:
        return []
    return [str(x) for x in items] if isinstance(items, list) else []

"""`newsdedup dedup` and `newsdedup clusters`: a thin layer over `dedup/`."""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import click

import dedup
from dedup.params import Params
from newsdedup.cli import cli
from newsdedup.commands import dedup_progress

_DEFAULTS = Params()


def _connect(db: str) -> sqlite3.Connection:
    if not Path(db).exists():
        raise click.ClickException(f"{db}: no such database; crawl or ingest into it first")
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles'").fetchone() is None:
        raise click.ClickException(f"{db}: has no articles table; crawl or ingest into it first")
    return conn


def _param_options(f):  # type: ignore[no-untyped-def]
    """One --option per dedup parameter, defaulting to None (= the recorded or default value)."""
    for fld in reversed(fields(Params)):
        if not fld.metadata.get("option", True):
            continue
        default = getattr(_DEFAULTS, fld.name)
        f = click.option(
            "--" + fld.name.replace("_", "-"),
            fld.name,
            type=type(default),
            default=None,
            help=f"[default: {default}]",
        )(f)
    return f


@cli.command("dedup")
@click.option("--db", default="news.db", show_default=True, help="SQLite database file.")
@click.option("--rebuild", is_flag=True, help="Drop the dedup tables and recluster every article.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(min=1),
              help="Articles sketched at a time.")
@click.option(
    "--commit-every",
    default=100_000,
    type=click.IntRange(min=1),
    show_default=True,
    help="Articles per transaction: clusters are brought up to date and committed this often "
    "(a run killed mid-way keeps every earlier commit; memory grows with it).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress line on stderr (default: on a TTY)."
)
@_param_options
def dedup_command(
    db: str,
    rebuild: bool,
    batch_size: int,
    commit_every: int,
    progress: bool | None,
    **options: object,
) -> None:
    """Group agency copies: index new articles and update clusters.

    Only articles not indexed yet are processed; an indexed article whose text,
    date or agencies changed since, or that was deleted, is taken out of the index
    first (and indexed anew if it is still there). The parameters are recorded in
    the database; to change them, pass --rebuild.

    \b
    Example:
        newsdedup dedup --db news.db
        newsdedup dedup --db news.db --rebuild --copy-threshold 0.25
    """
    from dedup.store import DedupStore  # (the engine's imports take a second: not for --help)

    conn = _connect(db)
    params: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    if not rebuild:
        stored = DedupStore(conn).stored_params() if _has_params(conn) else {}
        params = {**stored, **params}
    show = progress if progress is not None else sys.stderr.isatty()
    line = dedup_progress() if show else None
    try:
        summary = (dedup.rebuild if rebuild else dedup.update)(
            conn, batch_size=batch_size, commit_every=commit_every, progress=line, **params
        )
    except (dedup.ParamsMismatch, ValueError, TypeError) as err:
        raise click.ClickException(str(err)) from err
    finally:
        if line is not None:
            line.finish()
    redone = f" ({summary['withdrawn']} changed or deleted since)" if summary["withdrawn"] else ""
    click.echo(
        f"indexed {summary['indexed']} articles{redone} in {summary['seconds']:.1f} s: "
        f"{summary['clusters']} clusters ({summary['multi_clusters']} with copies), "
        f"{summary['containers']} containers"
    )


def _has_params(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'dedup_params'").fetchone()
        is not None
    )


@cli.command("clusters")
@click.option("--db", default="news.db", show_default=True, help="SQLite database file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl"]),
    default="table",
    show_default=True,
    help="jsonl: one {url, cluster} line per article, then {container, contains, share} lines.",
)
@click.option("--limit", default=20, show_default=True, help="Clusters shown by --format table.")
def clusters_command(db: str, fmt: str, limit: int) -> None:
    """Show the clusters of agency copies.

    \b
    Example:
        newsdedup clusters --db news.db
        newsdedup clusters --db news.db --format jsonl > clusters.jsonl
    """
    from dedup.store import DedupStore

    conn = _connect(db)
    if not _has_params(conn):
        raise click.ClickException(
            f"{db}: not deduplicated yet; run `newsdedup dedup --db {db}` first"
        )
    store = DedupStore(conn)
    if fmt == "jsonl":
        for url, cluster in store.assignments():
            click.echo(json.dumps({"url": url, "cluster": cluster}, ensure_ascii=False))
        for url, cluster, share in store.container_links():
            click.echo(
                json.dumps(
                    {"container": url, "contains": cluster, "share": share}, ensure_ascii=False
                )
            )
        return
    rows = store.largest_clusters(limit)
    counts = store.counts()
    click.echo(
        f"{counts['articles_indexed']} articles, {counts['clusters']} clusters "
        f"({counts['multi_clusters']} with copies), {counts['containers']} containers"
    )
    click.echo(f"{'cluster':<17} {'size':>4} {'dups':>4} {'cont':>4}  representative")
    for cid, size, dups, conts, outlet, title in rows:
        title = (title or "").replace("\n", " ")
        click.echo(f"{cid:<17} {size:>4} {dups:>4} {conts:>4}  {outlet or '?'}: {title[:70]}")

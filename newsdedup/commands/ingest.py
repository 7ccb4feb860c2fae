"""`newsdedup ingest`: store saved pages or extracted texts without crawling."""

from __future__ import annotations

import os
import sys

import click

from newsdedup.cli import cli
from newsdedup.commands import dedup_progress, status_line


def _progress_printer():
    return status_line(
        lambda s: f"{s.read} read  {s.stored} stored  {s.skipped} skipped  {s.failed} failed  "
        f"{s.read / s.elapsed if s.elapsed else 0.0:.1f}/s"
    )


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True))
@click.option(
    "--db",
    "db_path",
    default="news.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite database to write (created if missing).",
)
@click.option(
    "--texts",
    is_flag=True,
    default=False,
    help='Treat every JSONL line as an extracted text {"url","outlet","title","text","published"} '
    "(default: decided per line by its keys).",
)
@click.option(
    "--outlet",
    default=None,
    help="Outlet id for every record (default: the record's, else the URL host).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Extraction processes (default: number of CPUs).",
)
@click.option(
    "--no-dedup", is_flag=True, default=False, help="Do not run dedup.update after storing."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress line on stderr (default: on a TTY)."
)
def ingest(inputs, db_path, texts, outlet, workers, no_dedup, progress):
    """Extract and store articles from HTML files, JSONL manifests or extracted texts.

    INPUTS are .html/.htm files (optionally .gz), WARC/ARC files (.warc.gz, .warc,
    .arc.gz; e.g. a crawl's own or Common Crawl's CC-NEWS: their HTML 200 responses),
    directories of them, or JSONL manifests (.jsonl, .jsonl.gz) with one record per
    line: {"url", "path"} or {"url", "html"} for pages, {"url", "outlet", "title",
    "text", "published"} for extracted texts. Pages that are not articles are recorded
    in fetch_log with the reason.

    \b
    Example:
        newsdedup ingest --db news.db saved_pages/
        newsdedup ingest --db news.db news-warc/ CC-NEWS-20250314120000-00001.warc.gz
        newsdedup ingest --db news.db ../shared/bench/agency-dev-a/docs.jsonl
    """
    from crawler.ingest import IngestError, iter_records
    from crawler.ingest import ingest as run_ingest
    from crawler.store import Store

    workers = workers or os.cpu_count() or 1
    show = progress if progress is not None else sys.stderr.isatty()
    line = _progress_printer() if show else None
    warc_reports: list = []
    with Store(db_path) as store:
        try:
            stats = run_ingest(
                store,
                iter_records(inputs, texts=True if texts else None, warc_reports=warc_reports),
                workers=workers,
                outlet=outlet,
                progress=line,
            )
        except IngestError as e:
            # Input damaged part-way: what came before it is stored, and is clustered
            # now as after a whole run (else it would wait for the next dedup).
            if line is not None:
                line.finish()
            ran = "" if no_dedup else f"; dedup: {_dedup(store, show)['indexed']} articles indexed"
            raise click.ClickException(f"{e}{ran}") from e
        if line is not None:
            line.finish()  # (ends the line if one was drawn: none for an empty input)
        dedup_result = _dedup(store, show) if not no_dedup and stats.stored else None

    rate = stats.read / stats.elapsed if stats.elapsed else 0.0
    click.echo(
        f"Ingested into {db_path} in {stats.elapsed:.1f}s ({rate:.1f} records/s, {workers} workers)"
    )
    click.echo(f"  read     {stats.read}")
    click.echo(f"  stored   {stats.stored}")
    click.echo(f"  skipped  {stats.skipped}" + _reasons(stats.skipped_by_reason))
    click.echo(f"  failed   {stats.failed}" + _reasons(stats.failed_by_reason))
    if stats.outlets:
        top = ", ".join(f"{o} {n}" for o, n in stats.outlets.most_common(5))
        more = f" (+{len(stats.outlets) - 5} more)" if len(stats.outlets) > 5 else ""
        click.echo(f"  outlets  {len(stats.outlets)}: {top}{more}")
    if stats.agencies:
        click.echo("  agencies " + ", ".join(f"{a} {n}" for a, n in stats.agencies.most_common()))
    if dedup_result is not None:
        click.echo("  dedup    " + ", ".join(f"{k} {v}" for k, v in dedup_result.items()))
    elif no_dedup:
        click.echo("  dedup    skipped (--no-dedup)")
    for report in warc_reports:
        click.echo(f"  warc     {report.path}: {report.records} records, {report.pages} HTML pages"
                   + _reasons(report.skipped).replace("  (", "; not pages: (", 1))
    damaged = [r.error for r in warc_reports if r.error]
    if damaged:
        # What came before the damage is stored; the run still fails so scripts notice.
        raise click.ClickException(
            "; ".join(damaged) + " - the pages before the damage were ingested")


def _dedup(store, show: bool) -> dict:
    try:
        from dedup import update as dedup_update  # type: ignore[attr-defined]
    except ImportError as e:
        raise click.ClickException(
            f"articles are stored, but dedup.update is not available ({e}); "
            "rerun with --no-dedup, or run dedup separately"
        ) from e
    line = dedup_progress() if show else None
    try:
        return dedup_update(store.conn, progress=line)
    finally:
        if line is not None:
            line.finish()


def _reasons(counter) -> str:
    if not counter:
        return ""
    return "  (" + ", ".join(f"{r} {n}" for r, n in counter.most_common()) + ")"

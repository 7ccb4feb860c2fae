"""`newsdedup export`: write a deduplicated corpus as JSONL, Parquet or CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newsdedup.cli import cli
from newsdedup.commands import status_line


def _progress_printer():
    return status_line(
        lambda s: f"{s.written} written  {s.written / s.elapsed if s.elapsed else 0.0:.0f}/s"
    )


@cli.command("export")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--db", "db_path", default="news.db", show_default=True,
              type=click.Path(dir_okay=False), help="SQLite database to read.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet", "csv"]), default=None,
              help="Output format (default: from OUT's extension: .jsonl[.gz|.zst], .parquet, "
                   ".csv[.gz|.zst]).")
@click.option("--dedup", "mode", type=click.Choice(["none", "cluster", "passage"]),
              default="cluster", show_default=True,
              help="none: every article; cluster: one per cluster (its representative, with the "
                   "cluster's size and member URLs); passage: every article with paragraphs "
                   "already exported in an earlier one removed.")
@click.option("--since", metavar="WHEN",
              help="Only articles published at or after this: 6h, 2d, or a date (2025-03-14).")
@click.option("--until", metavar="WHEN", help="Only articles published before this (same forms).")
@click.option("--outlet", "outlets", multiple=True, metavar="ID", help="Only this outlet (repeatable).")
@click.option("--language", "languages", multiple=True, metavar="CODE",
              help="Only this language, ISO 639-1 (repeatable).")
@click.option("--agency", "agencies", multiple=True, metavar="NAME",
              help="Only articles crediting this agency, e.g. dpa (repeatable: any of them).")
@click.option("--include-opted-out", is_flag=True,
              help="Also export outlets that opted out of text and data mining (robots.txt "
                   "rules for AI crawlers, TDMRep); left out by default.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("--progress/--no-progress", default=None, help="Progress on stderr (default: on a TTY).")
def export_command(out, db_path, fmt, mode, since, until, outlets, languages, agencies,
                   include_opted_out, overwrite, progress):
    """Write the stored articles to OUT, each story once, with provenance.

    Records carry id, url, outlet, title, text, published, language, agencies,
    cluster_id and cluster_size (plus member_urls with --dedup cluster,
    paragraphs_removed with --dedup passage), earliest published first. OUT is
    written to a temporary file beside it and renamed when complete.

    \b
    Example:
        newsdedup export --db news.db corpus.parquet
        newsdedup export --db news.db --dedup passage --since 7d --agency dpa dpa.jsonl.zst
    """
    from crawler.export import ExportError, ExportFilter, parse_when
    from crawler.export import export as run_export
    from crawler.store import Store

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path}: no such database (crawl or ingest into it first)")
    show = progress if progress is not None else sys.stderr.isatty()
    line = _progress_printer() if show else None
    try:
        filters = ExportFilter(
            since=parse_when(since, option="--since"),
            until=parse_when(until, option="--until"),
            outlets=tuple(outlets),
            languages=tuple(languages),
            agencies=tuple(agencies),
            include_opted_out=include_opted_out,
        )
        with Store(db_path, create=False) as store:
            summary = run_export(store, out, fmt=fmt, dedup=mode, filters=filters,
                                 overwrite=overwrite,
                                 progress=line)
    except ExportError as e:
        if line is not None:
            line.finish()
        raise click.ClickException(str(e)) from None
    if line is not None:
        line.finish()  # (ends the line if one was drawn: none when nothing was written)
    print_summary(summary, db_path)


def print_summary(s, db_path: str) -> None:
    from crawler.export import REASONS

    rate = s.written / s.elapsed if s.elapsed else 0.0
    kind = s.format + (f", {s.compression}" if s.compression else "")
    click.echo(f"Exported {s.written} records to {s.path} ({kind}, --dedup {s.dedup}, "
               f"{s.bytes / 1e6:.1f} MB) in {s.elapsed:.1f}s ({rate:.0f} records/s)")
    left = sum(s.left_out.values())
    click.echo(f"  stored in {db_path}: {s.stored} articles; left out: {left}")
    for reason, text in REASONS.items():
        if s.left_out.get(reason):
            click.echo(f"    {s.left_out[reason]:>8}  {text}")
    if s.left_out.get("tdm_opt_out") or s.opted_out_outlets:
        for outlet, why in s.opted_out_outlets.items():
            click.echo(f"              {outlet}: {why}")
        click.echo("              (--include-opted-out exports them anyway)")
    if s.unclustered:
        click.echo(f"  {s.unclustered} exported articles are not clustered yet and count as "
                   f"singletons (run `newsdedup dedup --db {db_path}` first)")
    if s.dedup == "passage":
        click.echo(f"  paragraphs: {s.paragraphs_kept} kept, {s.paragraphs_removed} removed "
                   "as published earlier")

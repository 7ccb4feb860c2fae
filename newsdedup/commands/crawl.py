"""`newsdedup crawl`, `newsdedup demo` and `newsdedup stats`."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.runlog import EXIT_LOCKED
from crawler.store import Store
from newsdedup.cli import cli

if TYPE_CHECKING:
    from crawler.run import RunResult


db_option = click.option(
    "--db", default="news.db", show_default=True, type=click.Path(dir_okay=False),
    help="SQLite file to write to (created if missing).",
)


def _crawl_or_fail(db: str, seeds: str, **kwargs: object) -> RunResult:
    # Imported here: Scrapy takes a second to import, and `--help` should not wait for it.
    from crawler.run import run_crawl
    from crawler.runlog import RunLocked
    from crawler.seeds import SeedsError

    try:
        return run_crawl(db, seeds, **kwargs)  # type: ignore[arg-type]
    except RunLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except (SeedsError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: write NAME=VALUE", param_hint="-s/--set")
        out[name.strip()] = value
    return out


def _quiet_settings(verbose: bool) -> dict[str, object]:
    return {
        "LOG_LEVEL": "INFO" if verbose else "WARNING",
        "NEWSDEDUP_PROGRESS": (not verbose) and sys.stderr.isatty(),
    }


def print_summary(result: RunResult, *, limit: int = 20) -> None:
    """A one-screen summary: totals, the outlets with most activity, failures by reason."""
    t = result.totals
    started = datetime.fromisoformat(t["started"])
    finished = datetime.fromisoformat(t["finished"]) if t.get("finished") else datetime.now(UTC)
    secs = (finished - started).total_seconds()
    click.echo(
        f"Run {result.run_id} {result.status} in {secs:.1f}s: {t['outlets']} outlets, "
        f"{t['requests']} requests, {t['discovered']} article URLs found, {t['fetched']} fetched, "
        f"{t['stored']} stored, {t['skipped']} skipped, {t['failed']} failed."
    )
    if t.get("error"):
        click.echo(f"  error: {t['error']}")
    rows = sorted(result.per_outlet, key=lambda r: (-r["stored"], -r["discovered"], r["outlet"]))
    if rows:
        width = max(6, *(len(r["outlet"]) for r in rows[:limit]))
        click.echo(f"  {'outlet':<{width}}  found fetched stored skipped failed")
        for r in rows[:limit]:
            click.echo(
                f"  {r['outlet']:<{width}}  {r['discovered']:>5} {r['fetched']:>7} {r['stored']:>6}"
                f" {r['skipped']:>7} {r['failed']:>6}"
            )
        if len(rows) > limit:
            click.echo(f"  ... and {len(rows) - limit} more outlets (newsdedup stats)")
    for label, key in (("skipped", "skipped_by_reason"), ("failed", "failed_by_reason")):
        reasons: Counter[str] = Counter()
        for r in rows:
            reasons.update(json.loads(r[key] or "{}"))
        if reasons:
            click.echo(f"  {label}: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common(8)))


@cli.command()
@db_option
@click.option("--seeds", default=lambda: os.environ.get("NEWSDEDUP_SEEDS", "seeds/outlets.toml"),
              show_default="seeds/outlets.toml", type=click.Path(dir_okay=False),
              help="Outlet list (TOML). Env: NEWSDEDUP_SEEDS.")
@click.option("--outlet", "outlets", multiple=True, metavar="ID",
              help="Crawl only this outlet (repeatable; ids from `newsdedup outlets`).")
@click.option("--since", metavar="WINDOW",
              help="Skip articles listed as published before this: 6h, 2d, or a date "
                   "(2025-03-14). Default: 48h.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting, as `scrapy crawl -s` does (repeatable).")
@click.option("--warc-dir", type=click.Path(file_okay=False),
              help="Write raw requests and responses as gzipped WARC here. Default: "
                   "<database name>-warc/ beside the database (env: NEWSDEDUP_WARC_DIR).")
@click.option("--no-warc", is_flag=True, help="Do not write WARC files.")
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log instead of progress.")
def crawl(db: str, seeds: str, outlets: tuple[str, ...], since: str | None,
          overrides: tuple[str, ...], warc_dir: str | None, no_warc: bool, verbose: bool) -> None:
    """Crawl the listed outlets' new articles into the database.

    Feeds and sitemaps are read with conditional GET, URLs already stored are not
    fetched again, and only one run per database goes at a time, so it is safe to
    run from cron. Every request and response is kept in gzipped WARC files
    (--no-warc to skip), and what each outlet says to text-and-data-mining crawlers
    is recorded (table outlet_tdm). Exit status: 0 finished, 1 failed or
    interrupted, 75 another run holds the database.

    \b
    Example:
        newsdedup crawl --db news.db --since 6h
        newsdedup crawl --outlet tagesschau --outlet spiegel -s DOWNLOAD_DELAY=2
    """
    settings = {**_quiet_settings(verbose), **_warc_settings(warc_dir, no_warc),
                **_parse_overrides(overrides), "NEWSDEDUP_COMMAND": "crawl"}
    result = _crawl_or_fail(db, seeds, outlets=list(outlets) or None, since=since,
                            settings=settings)
    print_summary(result)
    _print_warc(db, settings)
    _print_tdm(db)
    if result.status != "ok":
        sys.exit(1)


@cli.command()
@click.option("--db", default="demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite file for the demo (replaced on each demo run).")
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log instead of progress.")
def demo(db: str, verbose: bool) -> None:
    """Crawl the built-in offline newsroom: no network needed.

    Serves the project's own fictional outlets on 127.0.0.1 (free ports), crawls them
    with the same spider and settings as a real crawl (only the delay shortened for
    loopback), and prints what it stored. The raw pages go to WARC files in
    <database name>-warc/ (demo-warc/), replaced on each demo run like the database.

    \b
    Example:
        newsdedup demo
        newsdedup stats --db demo.db
    """
    from crawler.demo.server import serve_newsroom
    from crawler.demo.site import build_newsroom
    from crawler.middlewares import warc_dir_for

    path = Path(db)
    _clear_old_demo(path)
    _clear_old_demo_warc(Path(warc_dir_for(db)))
    newsroom = build_newsroom(datetime.now(UTC))
    with serve_newsroom(newsroom) as running, tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "demo-outlets.toml"
        seeds.write_text(running.seeds_toml(), encoding="utf-8")
        click.echo(f"Serving the demo newsroom: {len(running.outlets)} outlets on 127.0.0.1")
        settings = {**_quiet_settings(verbose), **LOOPBACK_SETTINGS, "NEWSDEDUP_COMMAND": "demo",
                    "NEWSDEDUP_WARC_DIR": warc_dir_for(db)}
        result = _crawl_or_fail(db, str(seeds), settings=settings)
    print_summary(result)
    _print_warc(db, settings)
    _print_tdm(db)
    _print_stored(path)
    click.echo("\nNext:")
    click.echo(f"  newsdedup stats --db {db}")
    click.echo(f"  newsdedup clusters --db {db} --format table")
    click.echo(f"  newsdedup serve --db {db}    # browse the clusters in Datasette")
    click.echo(f"  newsdedup export --db {db} corpus.jsonl")
    if result.status != "ok":
        sys.exit(1)


# The demo's only departure from a real crawl: loopback needs no delay between requests.
LOOPBACK_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_START_DELAY": 0,
    "DOWNLOAD_DELAY_JITTER": 0,
}


def _clear_old_demo(path: Path) -> None:
    """Remove a database left by an earlier demo run; refuse to touch anything else."""
    if not path.exists():
        return
    with Store(path) as store:
        commands = {r[0] for r in store.conn.execute("SELECT DISTINCT command FROM crawl_runs")}
        ingested = store.conn.execute(
            "SELECT count(*) FROM articles WHERE source IS NOT 'crawl'").fetchone()[0]
    if commands - {"demo"} or ingested:
        raise click.ClickException(
            f"{path} holds data from other runs than the demo; pass another --db for the demo"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _warc_settings(warc_dir: str | None, no_warc: bool) -> dict[str, object]:
    if no_warc:
        return {"NEWSDEDUP_WARC": False}
    return {"NEWSDEDUP_WARC_DIR": warc_dir} if warc_dir else {}


def _print_warc(db: str, settings: dict[str, object]) -> None:
    from crawler.middlewares import warc_dir_for

    if settings.get("NEWSDEDUP_WARC") is False:
        return
    directory = Path(str(settings.get("NEWSDEDUP_WARC_DIR") or os.environ.get("NEWSDEDUP_WARC_DIR")
                         or warc_dir_for(db)))
    files = sorted(directory.glob("*.warc.gz")) if directory.is_dir() else []
    if files:
        size = sum(f.stat().st_size for f in files)
        click.echo(f"  raw pages: {directory}/ ({len(files)} WARC files, {size / 1e6:.1f} MB)")


def _print_tdm(db: str) -> None:
    with Store(db) as store:
        opted = store.tdm_opted_out()
    for outlet, why in opted.items():
        click.echo(f"  TDM opt-out: {outlet} ({why}); `newsdedup export` leaves it out")


def _clear_old_demo_warc(directory: Path) -> None:
    """The demo's WARC files go with its database; only files this tool names are removed."""
    if directory.is_dir():
        for f in directory.glob("newsdedup-*.warc.gz*"):
            f.unlink()


def _print_stored(path: Path, limit: int = 8) -> None:
    with Store(path) as store:
        rows = store.conn.execute(
            "SELECT outlet, title, json_array_length(coalesce(agencies, '[]')) FROM articles "
            "ORDER BY published DESC LIMIT ?", [limit]).fetchall()
    if rows:
        click.echo("\nNewest stored articles:")
        for outlet, title, _ in rows:
            click.echo(f"  [{outlet}] {(title or '')[:90]}")


@cli.command()
@db_option
@click.option("--runs", default=5, show_default=True, help="How many recent runs to list.")
def stats(db: str, runs: int) -> None:
    """What is in the database: articles per outlet, recent runs and their outcome.

    \b
    Example:
        newsdedup stats --db news.db
    """
    if not Path(db).exists():
        raise click.ClickException(f"{db}: no such database (run `newsdedup crawl` or `newsdedup demo`)")
    with Store(db) as store:
        c = store.conn
        n, first, last = c.execute(
            "SELECT count(*), min(published), max(published) FROM articles").fetchone()
        click.echo(f"{db}: {n} articles, published {first or '-'} .. {last or '-'}")
        per_outlet = c.execute(
            "SELECT o.id, count(a.id), max(a.fetched) FROM outlets o "
            "LEFT JOIN articles a ON a.outlet = o.id GROUP BY o.id ORDER BY count(a.id) DESC, o.id"
        ).fetchall()
        last_run = {
            r[0]: r[1:]
            for r in c.execute(
                "SELECT outlet, stored, failed, run_id FROM crawl_run_outlets "
                "WHERE run_id IN (SELECT max(run_id) FROM crawl_run_outlets GROUP BY outlet) "
            )
        }
        width = max([6] + [len(r[0]) for r in per_outlet])
        click.echo(f"  {'outlet':<{width}}  articles  last run: stored failed")
        for outlet, count, _ in per_outlet:
            stored, failed, run_id = last_run.get(outlet, ("-", "-", "-"))
            click.echo(f"  {outlet:<{width}}  {count:>8}  run {run_id}: {stored:>6} {failed:>6}")
        click.echo("Recent runs:")
        for r in c.execute(
            "SELECT id, started, status, stored, skipped, failed, requests, command "
            "FROM crawl_runs ORDER BY id DESC LIMIT ?", [runs]
        ):
            click.echo(f"  #{r[0]} {r[1]} {r[2]:<11} stored {r[3] or 0}, skipped {r[4] or 0}, "
                       f"failed {r[5] or 0}, {r[6] or 0} requests ({r[7]})")

"""`newsdedup outlets`: list and validate the outlet list (seeds/outlets.toml)."""

from __future__ import annotations

import json
from collections import Counter

import click

from crawler.seeds import COUNTRIES, SEEDS_ENV, check_outlets, load_outlets, resolve_seeds_path
from newsdedup.cli import cli


@cli.command()
@click.option(
    "--seeds",
    "seeds_path",
    type=click.Path(dir_okay=False),
    envvar=SEEDS_ENV,
    default=None,
    help=f"Outlet list to read. [default: seeds/outlets.toml; env: {SEEDS_ENV}]",
)
@click.option(
    "--check", is_flag=True, help="Only validate: print one line per problem, exit 1 if any."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def outlets(seeds_path: str | None, check: bool, fmt: str) -> None:
    """List the outlets to crawl, or validate the list with --check.

    A broken entry is reported with file, line, outlet and field, and what to fix.

    \b
    Example:
        newsdedup outlets
        newsdedup outlets --check
        newsdedup outlets --seeds my-outlets.toml --format json
    """
    path = resolve_seeds_path(seeds_path)
    if check:
        problems = check_outlets(path)
        if fmt == "json":
            click.echo(
                json.dumps(
                    {
                        "path": str(path),
                        "ok": not problems,
                        "problems": [p.to_dict() for p in problems],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        elif problems:
            for problem in problems:
                click.echo(str(problem))
            noun = "problem" if len(problems) == 1 else "problems"
            click.echo(f"{len(problems)} {noun} in {path}", err=True)
        else:
            n = len(load_outlets(path))
            click.echo(f"{path}: {n} outlets, no problems")
        if problems:
            raise SystemExit(1)
        return

    problems = check_outlets(path)
    if problems:
        # One line per problem, then exit 1, the same as --check: a listing of a broken
        # file would hide which outlets are missing from it.
        lines = "\n".join(str(p) for p in problems)
        raise click.ClickException(f"{lines}\n(run with --check to see only the problems)")
    found = load_outlets(path)
    if fmt == "json":
        click.echo(json.dumps([o.to_row() for o in found], ensure_ascii=False, indent=2))
        return
    headers = ("id", "name", "country", "feeds", "news sitemaps", "sitemaps")
    rows = [
        (
            o.id,
            o.name,
            o.country,
            str(len(o.feeds)),
            str(len(o.news_sitemaps)),
            str(len(o.sitemaps)),
        )
        for o in found
    ]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    numeric = {3, 4, 5}

    def fmt_row(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    click.echo(fmt_row(headers))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo(fmt_row(row))
    per_country = Counter(o.country for o in found)
    summary = ", ".join(f"{c} {per_country[c]}" for c in COUNTRIES if per_country[c])
    click.echo(f"\n{len(found)} outlets ({summary}) in {path}")

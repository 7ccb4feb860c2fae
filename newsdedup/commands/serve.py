"""`newsdedup serve`: Datasette on the database with the project's queries and cluster page."""

from __future__ import annotations

import shlex
import socket
import sqlite3
from pathlib import Path

import click

from newsdedup.cli import cli
from newsdedup.datasette import datasette_args


def check_database(db: str) -> None:
    """One clear line when `db` is not a SQLite file Datasette can open."""
    path = Path(db)
    if not path.exists():
        raise click.ClickException(f"{db}: no such database; crawl or ingest into it first")
    if not path.is_file():
        raise click.ClickException(f"{db}: not a file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise click.ClickException(f"{db}: not a SQLite database ({err})") from err


def _check_port(host: str, port: int) -> None:
    """One line when the port is taken (Datasette's server would log its start, the
    error and its shutdown, and exit with status 3)."""
    if port == 0:
        return
    try:
        for family, kind, proto, _, addr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            with socket.socket(family, kind, proto) as s:
                s.bind(addr)
            break
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port"
        ) from None


@cli.command("serve")
@click.option("--db", default="news.db", show_default=True, help="SQLite database file.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--immutable", is_flag=True,
              help="Open the file immutable (faster counts); only when nothing writes to it meanwhile.")
@click.option("--print-command", is_flag=True,
              help="Print the equivalent `datasette` command and exit.")
def serve(db: str, host: str, port: int, immutable: bool, print_command: bool) -> None:
    """Browse the database in Datasette: named queries, facets, cluster pages.

    Read-only for visitors: Datasette opens the file read-only (or immutable) and
    no named query writes, so a crawl may keep writing to it meanwhile. Cluster ids
    link to a page showing the copies in publication order with the passages each
    shares with the representative highlighted.

    \b
    Example:
        newsdedup serve --db news.db          # http://127.0.0.1:8001/news
        newsdedup serve --db news.db --print-command
    """
    args = datasette_args(db)
    if immutable:
        args = ["-i", *args]
    if print_command:
        click.echo(shlex.join(["datasette", *args]))
        return
    check_database(db)
    _check_port(host, port)
    from datasette.cli import cli as datasette_cli

    datasette_cli.main(
        ["serve", *args, "--host", host, "--port", str(port)], prog_name="datasette"
    )

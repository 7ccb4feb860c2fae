"""One module per command group; each registers its commands on `newsdedup.cli.cli`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click


def status_line(render: Callable[[Any], str], every: float = 0.25) -> Callable[[Any], None]:
    """A progress callback that rewrites one stderr line, at most every `every` seconds."""
    last = [0.0]

    def show(stats: Any) -> None:
        now = time.monotonic()
        if now - last[0] < every:
            return
        last[0] = now
        click.echo(f"\r{render(stats)} ", nl=False, err=True)

    return show

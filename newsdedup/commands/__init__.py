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


class DedupProgress:
    """A progress callback for `dedup.update` (`dedup.engine.Progress`): one stderr line,
    redrawn when the phase changes and at most every quarter second within one;
    `finish` ends the line, if one was drawn."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.phase = ""
        self.shown = 0.0
        self.width = 0

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if p.phase == self.phase and now - self.shown < self.every:
            return
        self.phase, self.shown = p.phase, now
        text = _render_dedup(p)
        self.width = max(self.width, len(text))  # (spaces over a longer line before)
        click.echo(f"\r{text:<{self.width}}", nl=False, err=True)

    def finish(self) -> None:
        if self.phase:
            click.echo("", err=True)


def _render_dedup(p: Any) -> str:
    if p.phase == "withdrawing":
        return f"dedup: withdrawing changed or deleted articles ({p.indexed} so far)"
    of = f" of {p.queued}" if p.queued >= p.indexed else ""
    rate = p.indexed / p.seconds if p.seconds > 0 else 0.0
    return f"dedup: {p.indexed}{of} articles  {p.phase:<10}  {rate:.0f}/s"

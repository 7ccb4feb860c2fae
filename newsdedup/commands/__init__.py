"""One module per command group; each registers its commands on `newsdedup.cli.cli`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click


class StatusLine:
    """A progress callback that rewrites one stderr line: at most every `every` seconds,
    and at once when `phase(stats)` changes (if given). A shorter text is padded over
    the longer one before it; `finish` ends the line, if one was drawn."""

    def __init__(
        self,
        render: Callable[[Any], str],
        every: float = 0.25,
        phase: Callable[[Any], Any] | None = None,
    ) -> None:
        self.render, self.every, self.phase = render, every, phase
        self.drawn = False
        self.key: Any = None
        self.shown = 0.0
        self.width = 0

    def __call__(self, stats: Any) -> None:
        now = time.monotonic()
        key = self.phase(stats) if self.phase is not None else None
        if self.drawn and key == self.key and now - self.shown < self.every:
            return
        self.drawn, self.key, self.shown = True, key, now
        text = self.render(stats)
        self.width = max(self.width, len(text))
        click.echo(f"\r{text:<{self.width}}", nl=False, err=True)

    def finish(self) -> None:
        if self.drawn:
            click.echo("", err=True)
            self.drawn = False


def status_line(render: Callable[[Any], str], every: float = 0.25) -> StatusLine:
    """A progress line for counts that only grow (ingest, export)."""
    return StatusLine(render, every)


def dedup_progress() -> StatusLine:
    """A progress line for `dedup.update(progress=...)` (`dedup.engine.Progress`),
    redrawn at each new step of a commit window."""
    return StatusLine(_render_dedup, phase=lambda p: p.phase)


def _render_dedup(p: Any) -> str:
    if p.phase == "withdrawing":
        return f"dedup: withdrawing changed or deleted articles ({p.indexed} so far)"
    of = f" of {p.queued}" if p.queued >= p.indexed else ""
    rate = p.indexed / p.seconds if p.seconds > 0 else 0.0
    return f"dedup: {p.indexed}{of} articles  {p.phase:<10}  {rate:.0f}/s"

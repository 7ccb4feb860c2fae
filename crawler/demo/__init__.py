"""The offline demo newsroom: fictional German outlets republishing wire copy.

`build_newsroom(now)` builds every page, feed and sitemap plus the ground truth
(`Newsroom.expected`); `serve_newsroom(newsroom)` serves each outlet on its own
127.0.0.1 port. `python -m crawler.demo.server` runs it in the foreground.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.demo.model import ArticleTruth, Expected, Newsroom, OutletSite
from crawler.demo.site import build_newsroom

if TYPE_CHECKING:
    from crawler.demo.server import RunningNewsroom, serve_newsroom

__all__ = [
    "ArticleTruth",
    "Expected",
    "Newsroom",
    "OutletSite",
    "RunningNewsroom",
    "build_newsroom",
    "serve_newsroom",
]


def __getattr__(name: str) -> Any:
    # Imported lazily so `python -m crawler.demo.server` does not find the module
    # already loaded by its package (runpy warns about that).
    if name in ("RunningNewsroom", "serve_newsroom"):
        from crawler.demo import server

        return getattr(server, name)
    raise AttributeError(f"module 'crawler.demo' has no attribute {name!r}")

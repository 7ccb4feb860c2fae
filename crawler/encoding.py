"""Reading bytes whose declared charset lies: UTF-8 with stray Windows-1252 bytes."""

from __future__ import annotations

import codecs


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return bad.decode("cp1252", errors="replace"), exc.end


# Error handler name for bytes.decode("utf-8", errors=CP1252_FALLBACK): valid UTF-8 reads
# as UTF-8, and each invalid byte as Windows-1252 — the usual culprit when a page or
# feed says UTF-8 but (partly) isn't. A whole Latin-1 page then reads right too.
CP1252_FALLBACK = "newsdedup-cp1252-fallback"
codecs.register_error(CP1252_FALLBACK, _cp1252_fallback)


def decode_utf8_lenient(body: bytes) -> str:
    """UTF-8 where valid, Windows-1252 for the bytes that are not."""
    return body.decode("utf-8", errors=CP1252_FALLBACK)

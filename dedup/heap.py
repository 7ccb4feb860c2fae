"""Keep freed memory in the process for the length of an update (glibc only).

An update allocates and frees arrays of megabytes batch after batch and step after
step. glibc serves blocks above its mmap threshold from fresh mappings and unmaps them
on free, and gives the top of its heap back once more than its trim threshold is free
there, so the next batch's arrays are new pages again: the kernel zeroes each one on
first touch. On a virtual machine that is a large part of an update's CPU time
(`bench/dedup_bench.py` reports the page faults and the system time apart).

`heap_kept` serves every block from the heap, however large (no mmap while it runs:
arrays of tens of MiB, LSH segments and their merges, are made afresh window after
window of a large build), grows the heap 64 MiB at a time and trims it only at the
end, when the free memory goes back to the system (`malloc_trim`); the thresholds are
then left as glibc's own adjustment would have set them (mmap 32 MiB, trim twice that),
mmap allowed again, the top pad as it was. Elsewhere (musl, macOS, Windows) it does
nothing.

Measured on a 1M build (`bench/dedup_bench.py` corpus, two runs side by side): with
blocks of up to 32 MiB kept but larger ones mapped afresh, 1.08M page faults and 95 s
of system time; with every block kept, 630k and 71 s, peak memory the same (3.2 GiB).
At 100k (one window) the time is the same and the peak 50-150 MiB higher.
"""

from __future__ import annotations

import ctypes
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

# mallopt(3) parameters and glibc's defaults.
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -2, -3, -4
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest (HEAP_MAX_SIZE / 2 on 64-bit)
TOP_PAD = 64 * 2**20
DEFAULT_TOP_PAD = 128 * 2**10
DEFAULT_MMAP_MAX = 65536


@lru_cache(maxsize=1)
def _glibc() -> Any:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


@contextmanager
def heap_kept() -> Iterator[None]:
    """Within: freed memory stays in the heap for reuse. After: it is given back."""
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)
    libc.mallopt(M_TOP_PAD, TOP_PAD)
    libc.mallopt(M_MMAP_MAX, 0)  # (blocks above the threshold too: none is mapped apart)
    try:
        yield
    finally:
        libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
        libc.mallopt(M_TOP_PAD, DEFAULT_TOP_PAD)
        libc.mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD)
        libc.malloc_trim(0)

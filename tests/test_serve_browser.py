"""The cluster page in a real headless Chromium, served by a real `newsdedup serve` on
127.0.0.1: the highlights and the timeline render, and a screenshot is saved.

Skips when no Chromium is installed, except when the environment variable CI is set
(`.ci/run` installs Debian's chromium), where it fails instead. With
NEWSDEDUP_UPDATE_SCREENSHOT=1 the screenshot also replaces docs/cluster-page.png, the
one the README shows.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.crawling import ROOT, query

SCREENSHOT = ROOT / "docs" / "cluster-page.png"
WINDOW = (1200, 1500)
# Flags for a closed sandbox: no sandboxing (runs as root in containers), no GPU, and
# nothing that would reach the network (component updates, sync, background requests).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("CI is set but no chromium is installed: `apt-get install -y chromium` (.ci/run does)")
    pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")


@pytest.fixture
def browser() -> str:
    """Path of the Chromium binary (skip or, with CI set, fail before starting anything)."""
    return chromium()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(demo_db):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdedup", "serve", "--db", str(demo_db), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"newsdedup serve did not come up: {out[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_chromium(browser: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", *args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )


def read_png(path: Path) -> np.ndarray:
    """An 8-bit RGB(A) non-interlaced PNG as an array (height, width, channels)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    depth, color, interlace = header[8], header[9], header[12]
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 4 if color == 6 else 3
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * channels)
    out = np.zeros((height, width * channels), dtype=np.int32)
    prev = np.zeros(width * channels, dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 1:  # Sub: running sum per channel
            row = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            row = (line + prev) % 256
        else:  # Average, Paeth: byte by byte
            row = np.zeros_like(line)
            for i in range(line.size):
                a = row[i - channels] if i >= channels else 0
                b = prev[i]
                if kind == 3:
                    row[i] = (line[i] + (a + b) // 2) % 256
                else:
                    c = prev[i - channels] if i >= channels else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    row[i] = (line[i] + pred) % 256
        out[y] = row
        prev = row
    return out.reshape(height, width, channels)[:, :, :3]


def pixels_near(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    return int((np.abs(image - np.array(rgb)).max(axis=2) <= tolerance).sum())


def test_cluster_page_renders_highlights_and_timeline_in_chromium(browser, server, demo_db, tmp_path):
    cid, size = query(
        demo_db,
        "SELECT cluster_id, size FROM clusters WHERE containers > 0 ORDER BY size DESC, cluster_id LIMIT 1",
    )[0]
    url = f"{server}/demo/-/cluster/{cid}"

    dom = run_chromium(browser, tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<svg" in html and html.count('class="tl-dot') == size
    assert html.count('<mark class="shared">') >= size - 1
    assert 'class="nd-member"' in html and "Containers quoting this story" in html

    shot = tmp_path / "cluster-page.png"
    result = run_chromium(browser, tmp_path, f"--screenshot={shot}", url)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    image = read_png(shot)
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])
    # Rendered, not just present in the DOM: the highlight colour of shared text
    # (#c8ecc9) covers a good area, and the representative's red dot (#b00 at 85%
    # opacity over white) and the other copies' blue dots are drawn in the timeline.
    assert pixels_near(image, (0xC8, 0xEC, 0xC9)) > 5000
    red = tuple(round(0.85 * c + 0.15 * 255) for c in (0xBB, 0x00, 0x00))
    blue = tuple(round(0.85 * c + 0.15 * 255) for c in (0x2A, 0x6E, 0xBB))
    assert pixels_near(image, red, 10) > 40  # a 12 px disc
    assert pixels_near(image, blue, 10) > 40 * (size - 1) * 0.8
    if os.environ.get("NEWSDEDUP_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, SCREENSHOT)

"""A real headless browser for the dashboard tests: Debian's chromium driven by Playwright (no
browser download: ``executable_path``).  Missing pieces fail loudly, never skip: the project's
setup installs them (``make install`` runs ``scripts/install-browser.sh``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Where the browser tests keep their screenshots (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def chromium_path() -> str:
    path = os.environ.get("OMNIDSL_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if not path:
        pytest.fail("no chromium on PATH: the browser tests need Debian's chromium "
                    "(make install runs scripts/install-browser.sh; or set $OMNIDSL_CHROMIUM)",
                    pytrace=False)
    return path


@contextmanager
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    """A fresh page and the list its console errors and page errors are appended to."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed (pip install -e '.[test]')", pytrace=False)
    exe = chromium_path()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=exe, headless=True,
                                        args=["--no-sandbox", "--disable-gpu",
                                              "--disable-dev-shm-usage"])
        except Exception as exc:
            pytest.fail(f"chromium ({exe}) did not start under Playwright: {exc}", pytrace=False)
        errors: list[str] = []
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        try:
            yield page, errors
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path

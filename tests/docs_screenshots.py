"""Make the PNG screenshots in docs/images from the same data the snapshot and browser tests use.

    python -m tests.docs_screenshots

* ``tui-80x24.png``: the live screen at 80x24 right after a run with one root cause, no key pressed
  (Textual's SVG export of the screen, rendered by headless Chromium);
* ``report-first-screen.png`` / ``report-phone.png``: the bundle's report.html as a browser first
  shows it, at 1280x800 and at a phone's 390x844.

Fonts differ between machines, so the pictures are made by hand when the screens change, not compared
in tests (the SVG snapshots and the DOM assertions are the tests).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "images"


async def _tui_svg() -> str:
    from tests.tui.test_snapshots import after_the_run, live

    app = live("report-tls13.json")
    async with app.run_test(size=(80, 24)) as pilot:
        await after_the_run(pilot)
        return app.export_screenshot(title="jnlpdiag over SSH, 80x24")


def main() -> None:
    from jnlpdiag.bundle import html
    from tests.reports.browser import Browser
    from tests.reports.test_report_views import sample_report

    DOCS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        svg = asyncio.run(_tui_svg())
        (work / "tui.svg").write_text(svg, encoding="utf-8")
        box = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
        width, height = (int(float(box.group(1))), int(float(box.group(2)))) if box else (994, 635)
        (work / "report.html").write_text(html.render(sample_report()), encoding="utf-8")
        with Browser(work / "profile") as browser:
            browser.open((work / "tui.svg").as_uri(), width, height)
            browser.screenshot(DOCS / "tui-80x24.png")
            browser.open((work / "report.html").as_uri(), 1280, 800)
            browser.screenshot(DOCS / "report-first-screen.png")
            browser.open((work / "report.html").as_uri(), 390, 844, mobile=True)
            browser.screenshot(DOCS / "report-phone.png")
    for name in ("tui-80x24.png", "report-first-screen.png", "report-phone.png"):
        print(DOCS / name)


if __name__ == "__main__":
    main()

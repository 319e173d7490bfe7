"""Regenerate the README's picture of the HTML report, docs/img/report.png: a fixture scanned
(fixtures/repos/platform-service, the devops pack), its page rendered by headless Chromium
(Debian's `chromium`) and reduced to a small palette PNG.

    python scripts/report_screenshot.py [--fixture fixtures/repos/platform-service]
                                        [--out docs/img/report.png] [--height 1100]

Needs `chromium` on PATH (or CHROMIUM=/path/to/chrome) and, to shrink the PNG, Pillow (the
`[chart]` extra brings it); without Pillow the full-colour screenshot is kept."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maturity_scan import api  # noqa: E402
from maturity_scan.cli.checks import stamp  # noqa: E402
from maturity_scan.engine.scan import ScanOptions  # noqa: E402
from maturity_scan.engine.source import WorkTreeSource  # noqa: E402
from maturity_scan.reporters import html  # noqa: E402

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1")
WIDTH = 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture", default="fixtures/repos/platform-service")
    ap.add_argument("--pack", default="devops")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "report.png")
    ap.add_argument("--height", type=int, default=1100, help="pixels of the page shown")
    args = ap.parse_args()
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not chromium:
        print("chromium is not installed (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    os.chdir(ROOT)  # the page names the fixture as a relative path
    source = WorkTreeSource(Path(args.fixture))
    report = api.scan_report(source, args.pack, ScanOptions(jobs=0, cache=False))
    stamp([report], source)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html.render(report), encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp}/profile",
                        f"--window-size={WIDTH},{args.height}", f"--screenshot={shot}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            from PIL import Image
        except ImportError:
            shutil.copyfile(shot, args.out)
        else:
            with Image.open(shot) as img:
                img.convert("RGB").quantize(colors=48, method=Image.Quantize.MEDIANCUT) \
                    .save(args.out, optimize=True)
    print(f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: "
          f"{args.out.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

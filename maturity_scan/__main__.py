from __future__ import annotations

from maturity_scan.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

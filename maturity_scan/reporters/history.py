"""Levels over time (`maturity-scan history`, data: `maturity_scan.gate.history`) as a table,
CSV, JSON or an SVG chart."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from maturity_scan.errors import UsageError
from maturity_scan.report import map_strings, visible
from maturity_scan.reporters.text import Page, table


def render(hist: dict[str, Any], *, fmt: str = "text", width: int | None = None) -> str:
    """`fmt`: text, csv or json; `width`: the terminal's columns to fit a text table to."""
    if fmt == "text":
        return as_text(hist, width)
    return {"csv": as_csv, "json": as_json}[fmt](hist)


def _level(row: dict[str, Any], dim: str) -> str:
    """A row's level of a dimension, `n/a` where it was not applicable."""
    return f"{row['levels'][dim]:g}" if dim in row["levels"] else "n/a"


def as_text(hist: dict[str, Any], width: int | None = None) -> str:
    """A table (rich): revision, date, then a level column per dimension."""
    from rich.text import Text

    ids = [d["id"] for d in hist["dimensions"]]
    levels = table("revision", "date", *ids, right=tuple(range(2, 2 + len(ids))))
    for r in map_strings(hist["rows"], visible):  # a tag name is shown, never obeyed
        levels.add_row(Text(r["label"]), r["date"][:10], *(_level(r, i) for i in ids))
    page = Page()
    page.add(levels, fit=False)  # figures: one row per revision, never wrapped
    return page.render(width)


def as_csv(hist: dict[str, Any]) -> str:
    ids = [d["id"] for d in hist["dimensions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["revision", "label", "date", *ids])
    for r in hist["rows"]:
        w.writerow([r["revision"], r["label"], r["date"], *(_level(r, i) for i in ids)])
    return buf.getvalue()


def as_json(hist: dict[str, Any]) -> str:
    return json.dumps(hist, indent=2, sort_keys=True) + "\n"


def chart(hist: dict[str, Any], out: Path) -> None:
    """An SVG line chart: one series per dimension, levels over the revisions."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--chart needs matplotlib: pip install 'maturity-scan[chart]'") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    labels = [r["label"] for r in hist["rows"]]
    top = max((d["max_level"] for d in hist["dimensions"]), default=5)
    fig, ax = plt.subplots(figsize=(max(6, len(labels) * 0.8), 4.5))
    for n, d in enumerate(hist["dimensions"]):
        offset = (n - len(hist["dimensions"]) / 2) * 0.03  # keep equal lines apart
        ax.plot(range(len(labels)), [r["levels"].get(d["id"], float("nan")) + offset
                                        for r in hist["rows"]],
                marker="o", label=d["title"], gid=f"series-{d['id']}")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylim(0.5, top + 0.5)
    ax.set_xlabel("revision")
    ax.set_ylabel("level")
    ax.set_title(f"maturity over time ({hist['pack']})")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, format="svg")
    plt.close(fig)

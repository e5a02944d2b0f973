"""`python -m offline.graph --stack staging`: the resource graph of a previewed stack, as SVG and PNG.

One box per component (the planes and every organization and tenant) listing what it owns, and one
arrow per pair of components whose resources depend on each other, from `build/<stack>/resources.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Column per plane, left to right in the order traffic meets them.
PLANES = {"gateway": 0, "identity": 1, "tenancy:Organization": 2, "tenancy:Tenant": 3}
COLOURS = {"gateway": "#dbeafe", "identity": "#fef3c7", "tenancy:Organization": "#dcfce7", "tenancy:Tenant": "#f3e8ff"}


@dataclass
class Box:
    urn: str
    title: str
    column: int
    owned: Counter[str] = field(default_factory=Counter)


def _plane(type_: str) -> str:
    _, plane, kind = type_.split(":")
    return f"tenancy:{kind}" if plane == "tenancy" else plane


def _short(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def build(resources: list[dict[str, Any]]) -> tuple[list[Box], Counter[tuple[str, str]]]:
    by_urn = {r["urn"]: r for r in resources}
    boxes = {
        r["urn"]: Box(r["urn"], f"{_short(r['type'])} {r['name']}", PLANES.get(_plane(r["type"]), 0))
        for r in resources
        if r["type"].startswith("gatehouse:")
    }

    def owner(urn: str) -> str | None:
        while urn and urn not in boxes:
            urn = by_urn.get(urn, {}).get("parent", "")
        return urn or None

    edges: Counter[tuple[str, str]] = Counter()
    for r in resources:
        source = owner(r["urn"])
        if source is None or r["urn"] == source:
            continue
        boxes[source].owned[_short(r["type"])] += 1
        for dependency in r["dependencies"]:
            target = owner(dependency)
            if target and target != source:
                edges[(source, target)] += 1
    return sorted(boxes.values(), key=lambda b: (b.column, b.title)), edges


def draw(boxes: list[Box], edges: Counter[tuple[str, str]], title: str, out: Path) -> list[Path]:
    columns: dict[int, list[Box]] = defaultdict(list)
    for box in boxes:
        columns[box.column].append(box)
    height = max((len(c) for c in columns.values()), default=1)
    fig, ax = plt.subplots(figsize=(4.2 * len(PLANES), 1.9 * height + 1.2))
    ax.set_xlim(0, 4.2 * len(PLANES))
    ax.set_ylim(0, 1.9 * height + 0.6)
    ax.axis("off")
    ax.set_title(title, fontsize=13, loc="left")
    centres: dict[str, tuple[float, float]] = {}
    patches: dict[str, FancyBboxPatch] = {}
    for column, members in columns.items():
        for row, box in enumerate(members):
            x, y = 0.3 + 4.2 * column, 1.9 * (height - row) - 1.5
            plane = next(p for p, c in PLANES.items() if c == column)
            patch = FancyBboxPatch(
                (x, y), 3.5, 1.5, boxstyle="round,pad=0.04", fc=COLOURS[plane], ec="#334155", zorder=2
            )
            ax.add_patch(patch)
            patches[box.urn] = patch
            owned = ", ".join(f"{n} {kind}" for kind, n in box.owned.most_common(5))
            ax.text(x + 0.12, y + 1.3, box.title, fontsize=9, weight="bold", va="top", zorder=3)
            ax.text(x + 0.12, y + 0.95, _wrap(owned, 48), fontsize=6.5, va="top", color="#334155", zorder=3)
            centres[box.urn] = (x + 1.75, y + 0.75)
    for (source, target), count in sorted(edges.items()):
        ax.annotate(
            "",
            xy=centres[target],
            xytext=centres[source],
            arrowprops={
                "arrowstyle": "-|>",
                "color": "#64748b",
                "lw": 0.6 + min(count, 10) * 0.15,
                "patchA": patches[source],  # from edge to edge, not through the text
                "patchB": patches[target],
                "connectionstyle": "arc3,rad=0.08",
            },
            zorder=1,
        )
    written = []
    for suffix in ("svg", "png"):
        path = out.with_suffix(f".{suffix}")
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Date": None} if suffix == "svg" else None)
        written.append(path)
    plt.close(fig)
    return written


def _wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in text.split(", "):
        candidate = f"{line}, {word}" if line else word
        if len(candidate) > width and line:
            lines.append(line + ",")
            line = word
        else:
            line = candidate
    return "\n".join([*lines, line])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.graph")
    parser.add_argument("--stack", default="staging")
    parser.add_argument("--build", type=Path, default=REPO / "build")
    args = parser.parse_args(argv)
    folder = args.build / args.stack
    source = folder / "resources.json"
    if not source.exists():
        print(f"error: {source} not found; run `make preview STACK={args.stack}` first", file=sys.stderr)
        return 2
    boxes, edges = build(json.loads(source.read_text()))
    for path in draw(
        boxes, edges, f"gatehouse/{args.stack}: components and the dependencies between them", folder / "graph"
    ):
        print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

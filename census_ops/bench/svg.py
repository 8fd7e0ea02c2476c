"""Two small SVG charts for docs/performance.md, written by hand (no plotting dependency):
cost per million submissions by component, and read units against table size."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
FONT = 'font-family="Helvetica, Arial, sans-serif"'


def _text(x: float, y: float, text: str, size: int = 12, anchor: str = "start", weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" {FONT} font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}">{escape(text)}</text>'
    )


def cost_chart(rows: Sequence[tuple[str, dict[str, float]]], target: float, title: str) -> str:
    """Stacked horizontal bars: one per scenario, one colour per component, the target as a line."""
    components: list[str] = []
    for _, parts in rows:
        components += [c for c in parts if c not in components]
    left, right, top, bar, gap = 360, 40, 50, 26, 14
    width = 940
    plot = width - left - right
    largest = max([target, *(sum(parts.values()) for _, parts in rows)]) * 1.1
    scale = plot / largest
    height = top + len(rows) * (bar + gap) + 100
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        '<rect width="100%" height="100%" fill="white"/>',
        _text(width / 2, 24, title, 15, "middle", "bold"),
    ]
    for i, (name, parts) in enumerate(rows):
        y = top + i * (bar + gap)
        out.append(_text(left - 8, y + bar * 0.68, name, 12, "end"))
        x = float(left)
        for component, value in parts.items():
            w = value * scale
            colour = COLOURS[components.index(component) % len(COLOURS)]
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}"/>')
            x += w
        out.append(_text(x + 6, y + bar * 0.68, f"${sum(parts.values()):.2f}", 12))
    axis_y = top + len(rows) * (bar + gap)
    tx = left + target * scale
    out.append(
        f'<line x1="{tx:.1f}" y1="{top - 8}" x2="{tx:.1f}" y2="{axis_y}" stroke="black" stroke-dasharray="5,4"/>'
    )
    out.append(_text(tx + 4, top - 12, f"target ${target:.2f}", 11))
    step = _nice_step(largest)
    value = 0.0
    while value <= largest:
        x = left + value * scale
        out.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}" stroke="black"/>')
        out.append(_text(x, axis_y + 18, f"${value:g}", 11, "middle"))
        value += step
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot}" y2="{axis_y}" stroke="black"/>')
    legend_y = axis_y + 58
    x = 20.0
    for component in components:
        needed = 22 + 7 * len(component)
        if x + needed > width - 10:  # wrap the legend
            x, legend_y = 20.0, legend_y + 20
        colour = COLOURS[components.index(component) % len(COLOURS)]
        out.append(f'<rect x="{x:.1f}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(_text(x + 16, legend_y, component, 11))
        x += needed
    out.append(_text(left + plot / 2, axis_y + 32, "US$ per million submissions", 11, "middle"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _nice_step(largest: float) -> float:
    raw = largest / 6
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def scaling_chart(points: Sequence[tuple[int, float, float]], title: str) -> str:
    """Read units (log scale) against households in the table (log scale): the worklist
    generation's measured units, and what one Scan of the table would read instead.
    `points` = (households, generation read units, scan read units)."""
    width, height, left, right, top, bottom = 880, 420, 80, 290, 50, 60
    pw, ph = width - left - right, height - top - bottom
    xs = [p[0] for p in points]
    ys = [v for p in points for v in p[1:] if v > 0]
    x0, x1 = math.log10(min(xs) / 2), math.log10(max(xs) * 2)
    y0, y1 = math.floor(math.log10(min(ys))) - 0.2, math.ceil(math.log10(max(ys))) + 0.2

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - (math.log10(y) - y0) / (y1 - y0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        '<rect width="100%" height="100%" fill="white"/>',
        _text(width / 2 - right / 2, 24, title, 15, "middle", "bold"),
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>',
    ]
    for exponent in range(math.ceil(y0), math.floor(y1) + 1):
        y = py(10**exponent)
        out.append(f'<line x1="{left - 5}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(_text(left - 8, y + 4, f"{10**exponent:,}", 11, "end"))
    for x in xs:
        out.append(_text(px(x), top + ph + 18, f"{x:,}", 11, "middle"))
    out.append(_text(left + pw / 2, height - 16, "households in the table", 12, "middle"))
    out.append(
        _text(18, top + ph / 2, "read units", 12, "middle").replace(
            "<text ", f'<text transform="rotate(-90 18 {top + ph / 2})" ', 1
        )
    )
    series = (("worklist generation (measured)", 1, COLOURS[0]), ("one Scan of the table (item sizes)", 2, COLOURS[3]))
    for i, (label, column, colour) in enumerate(series):
        coords = " ".join(f"{px(p[0]):.1f},{py(p[column]):.1f}" for p in points)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p in points:
            out.append(f'<circle cx="{px(p[0]):.1f}" cy="{py(p[column]):.1f}" r="4" fill="{colour}"/>')
            out.append(_text(px(p[0]) + 8, py(p[column]) - 8, f"{p[column]:,.1f}", 11))
        ly = top + 20 + i * 22
        out.append(f'<rect x="{left + pw + 16}" y="{ly - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(_text(left + pw + 32, ly, label, 11))
    out.append("</svg>")
    return "\n".join(out) + "\n"

"""Tiny inline-SVG charts for the HTML report: stacked bars over runs and share bars. No JavaScript,
no CDN: the page opens offline and prints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac", "#1f77b4", "#8c564b", "#17becf", "#bcbd22")


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(labels: Sequence[str], series: Mapping[str, Sequence[int]], *, width: int = 720,
                 height: int = 240, colors: Mapping[str, str] | None = None) -> str:
    """One bar per label, stacked by series (e.g. open findings per code per run), with a legend."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    left, bottom, legend_w = 48, 28, 150
    plot_w, plot_h = width - left - legend_w - 10, height - bottom - 10
    step = plot_w / max(len(labels), 1)
    bar = max(min(step * 0.7, 48), 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">']
    parts.append(f'<line x1="{left}" y1="{10 + plot_h}" x2="{left + plot_w}" y2="{10 + plot_h}" stroke="#999"/>')
    parts.append(f'<text x="{left - 6}" y="14" text-anchor="end">{top:,}</text>')
    parts.append(f'<text x="{left - 6}" y="{10 + plot_h}" text-anchor="end">0</text>')
    for i, label in enumerate(labels):
        x, y = left + i * step + (step - bar) / 2, float(10 + plot_h)
        for name, values in series.items():
            h = values[i] / top * plot_h
            if h <= 0:
                continue
            y -= h
            fill = (colors or {}).get(name, color(list(series).index(name)))
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{fill}">'
                         f'<title>{escape(label)} {escape(name)}: {values[i]:,}</title></rect>')
        if len(labels) <= 16 or i % max(len(labels) // 12, 1) == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle">{escape(label)}</text>')
    for j, name in enumerate(series):
        fill = (colors or {}).get(name, color(j))
        y = 14 + j * 16
        parts.append(f'<rect x="{width - legend_w}" y="{y - 9}" width="10" height="10" fill="{fill}"/>'
                     f'<text x="{width - legend_w + 14}" y="{y}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_bars(rows: Sequence[tuple[str, float | None, str]], *, width: int = 720) -> str:
    """Horizontal 0-100 % bars, one per (label, share, caption)."""
    row_h, label_w = 26, 230
    height = row_h * len(rows) + 6
    bar_w = width - label_w - 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">']
    for i, (label, share, caption) in enumerate(rows):
        y = 4 + i * row_h
        parts.append(f'<text x="0" y="{y + 14}">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="18" fill="#eee"/>')
        if share is not None:
            fill = "#59a14f" if share >= 0.9 else "#edc948" if share >= 0.6 else "#e15759"
            parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w * min(share, 1.0):.1f}" height="18" '
                         f'fill="{fill}"><title>{escape(caption)}</title></rect>')
        text = "–" if share is None else f"{share:.1%}"
        parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 14}">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)

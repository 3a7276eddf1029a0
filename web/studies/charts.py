"""Small SVG bar charts, drawn by hand.

Why not matplotlib: it is not a dependency, a bar chart is forty lines of SVG, and inline SVG works
in the console (CSP allows no external image), in the self-contained study pack, and scales for
projection in a meeting room. Text is escaped; charts carry a ``<title>`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#d63384", "#20c997")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
              *, unit: str = "", width: int = 520, bar_height: int = 16) -> str:
    """Horizontal grouped bars: one group per label, one bar per series (name, values).

    ``None`` values are drawn as "n/a" (undefined, e.g. no delivered order), never as 0.
    """
    n_series = max(len(series), 1)
    label_w, value_w, top = 150, 70, 30
    group_h = bar_height * n_series + 8
    legend_h = 18 if len(series) > 1 else 0
    height = top + legend_h + group_h * len(labels) + 10
    plot_w = width - label_w - value_w
    values = [v for _, vs in series for v in vs if v is not None]
    top_value = max([abs(v) for v in values] + [1e-9])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="16" font-weight="bold" font-size="13">{escape(title)}</text>']
    if len(series) > 1:
        x = label_w
        for k, (name, _) in enumerate(series):
            colour = PALETTE[k % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="{top - 6}" width="10" height="10" fill="{colour}"/>'
                         f'<text x="{x + 14}" y="{top + 3}">{escape(name)}</text>')
            x += 20 + 8 * len(name)
    for i, label in enumerate(labels):
        y0 = top + legend_h + i * group_h
        parts.append(f'<text x="{label_w - 6}" y="{y0 + group_h / 2 + 4}" text-anchor="end">'
                     f"{escape(label)}</text>")
        for k, (_, vs) in enumerate(series):
            v = vs[i] if i < len(vs) else None
            y = y0 + k * bar_height
            colour = PALETTE[k % len(PALETTE)]
            if v is None:
                parts.append(f'<text x="{label_w + 4}" y="{y + bar_height - 4}" fill="#888">n/a</text>')
                continue
            w = max(abs(v) / top_value * plot_w, 0.5 if v else 0)
            parts.append(f'<rect x="{label_w}" y="{y + 1}" width="{w:.1f}" height="{bar_height - 3}" '
                         f'fill="{colour}"><title>{escape(label)}: {_fmt(v)} {escape(unit)}</title></rect>'
                         f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 4}">{_fmt(v)}'
                         f"{(' ' + escape(unit)) if unit else ''}</text>")
    parts.append("</svg>")
    return "".join(parts)

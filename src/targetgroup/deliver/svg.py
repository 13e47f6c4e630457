"""Small inline SVG charts for the leadership report, drawn in Python (no JavaScript, no network).

    hbars(labels, series)    horizontal bars, one group per label (one or more series)
    vbars(labels, series)    vertical bars per category, e.g. per run
    line(labels, series)     a line over categories, e.g. size per run

A series is (name, colour, values, texts): `values` are numbers or None for a hidden cell,
`texts` what to print at the bar ('12', '<5', '•'). A hidden cell draws no bar, only its text.
"""

from __future__ import annotations

from html import escape

Series = tuple[str, str, list[int | None], list[str]]

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif"
BLUE, ORANGE, GREY = "#2f6f9f", "#d9822b", "#8a8f98"


def _scale_max(series: list[Series]) -> float:
    top = max([v for _, _, values, _ in series for v in values if v is not None] or [0])
    return float(top) if top > 0 else 1.0


def _legend(series: list[Series], x: float, y: float) -> str:
    if len(series) < 2:
        return ""
    parts = []
    for i, (name, colour, _, _) in enumerate(series):
        xi = x + i * 140
        parts.append(f'<rect x="{xi}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{xi + 18}" y="{y}" font-size="12">{escape(name)}</text>')
    return "".join(parts)


def _svg(width: float, height: float, label: str, body: str) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="100%" style="max-width:{width:.0f}px;{FONT}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(label)}</title>{body}</svg>')


def hbars(labels: list[str], series: list[Series], title: str, label_width: int | None = None) -> str:
    """Horizontal grouped bars: a row per label, a bar per series; labels get the room they need."""
    if label_width is None:
        label_width = min(int(max([len(lab) for lab in labels] + [8]) * 7.6) + 16, 340)
    bar_h, gap, plot_w = 16, 10, 300
    group_h = bar_h * len(series) + gap
    top = 28 if len(series) > 1 else 8
    height = top + group_h * max(len(labels), 1) + 6
    width = label_width + plot_w + 60
    vmax = _scale_max(series)
    body = [_legend(series, label_width, 16)]
    for i, label in enumerate(labels):
        y0 = top + i * group_h
        body.append(f'<text x="{label_width - 8}" y="{y0 + bar_h * len(series) / 2 + 4:.1f}" font-size="12" '
                    f'text-anchor="end">{escape(label)}</text>')
        for j, (_, colour, values, texts) in enumerate(series):
            y = y0 + j * bar_h
            value = values[i]
            w = 0 if value is None else plot_w * value / vmax
            if w:
                body.append(f'<rect class="bar" x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_h - 3}" '
                            f'fill="{colour}"/>')
            body.append(f'<text x="{label_width + w + 5:.1f}" y="{y + bar_h - 5}" font-size="11" '
                        f'fill="#333">{escape(texts[i])}</text>')
    body.append(f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" y2="{height - 4}" stroke="#999"/>')
    return _svg(width, height, title, "".join(body))


def vbars(labels: list[str], series: list[Series], title: str) -> str:
    """Vertical grouped bars: a group per label (e.g. a run), a bar per series."""
    plot_h, bar_w = 160, 22
    group_w = max(bar_w * len(series) + 18, 64)
    left, top = 20, 34
    width = max(left + group_w * max(len(labels), 1) + 20, 420)
    height = top + plot_h + 30
    vmax = _scale_max(series)
    body = [_legend(series, left, 16)]
    base = top + plot_h
    for i, label in enumerate(labels):
        x0 = left + i * group_w
        for j, (_, colour, values, texts) in enumerate(series):
            x = x0 + (group_w - bar_w * len(series)) / 2 + j * bar_w
            value = values[i] if i < len(values) else None
            h = 0 if value is None else plot_h * value / vmax
            if h:
                body.append(f'<rect class="bar" x="{x}" y="{base - h:.1f}" width="{bar_w - 2}" height="{h:.1f}" '
                            f'fill="{colour}"/>')
            body.append(f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{base - h - 3:.1f}" font-size="10" '
                        f'text-anchor="middle" fill="#333">{escape(texts[i])}</text>')
        body.append(f'<text x="{x0 + group_w / 2:.1f}" y="{base + 16}" font-size="11" '
                    f'text-anchor="middle">{escape(label)}</text>')
    body.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>')
    return _svg(width, height, title, "".join(body))


def line(labels: list[str], series: list[Series], title: str) -> str:
    """A line per series over the labels; hidden points break the line and show their text."""
    plot_h, step, left, top = 160, 64, 20, 30
    width = max(left + step * max(len(labels), 1) + 20, 420)
    height = top + plot_h + 30
    vmax = _scale_max(series) * 1.15
    base = top + plot_h
    body = [_legend(series, left, 16)]
    for _, colour, values, texts in series:
        points = []
        for i, (value, text) in enumerate(zip(values, texts)):
            x = left + step * i + step / 2
            if value is None:
                body.append(f'<text x="{x:.1f}" y="{base - 4}" font-size="10" text-anchor="middle">{escape(text)}</text>')
                if len(points) > 1:
                    body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>')
                points = []
                continue
            y = base - plot_h * value / vmax
            points.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
                        f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="10" text-anchor="middle">{escape(text)}</text>')
        if len(points) > 1:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>')
    for i, label in enumerate(labels):
        x = left + step * i + step / 2
        body.append(f'<text x="{x:.1f}" y="{base + 16}" font-size="11" text-anchor="middle">{escape(label)}</text>')
    body.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>')
    return _svg(width, height, title, "".join(body))

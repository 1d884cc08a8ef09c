"""Charts drawn as inline SVG: the report opens with no network and no script, and prints the
same in Chromium's PDF as on screen."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from kzdw.report.formatting import format_share, visible
from kzdw.terminal import inert

BLUE = "#1f5fa8"
RED = "#c0392b"
GREY = "#8a94a6"
GRID = "#e3e7ee"
STATUS_COLOURS = {"ok": "#2e7d32", "warn": "#e08a00", "behind": "#c62828", "none": "#607d8b"}


def _e(text: object) -> str:
    return escape(visible(text), quote=True)


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{_e(label)}" class="chart">'
        f"<title>{_e(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, **attrs: str | float) -> str:
    # class_ stands for class (a keyword); text_anchor for text-anchor.
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{_e(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{_e(text)}</text>'


def nice_ceiling(value: float) -> float:
    """The round number (1, 2, 2.5, 5 × 10^n) at or above value, for an axis top."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exponent
        if top >= value - 1e-12:
            return top
    return 10 ** (exponent + 1)


def line_chart(
    points: Sequence[tuple[date, float | None]],
    *,
    label: str,
    y_format: Callable[[float], str],
    tick_labels: Callable[[list[float]], list[str]] | None = None,
    colour: str = BLUE,
    y_top: float | None = None,
    width: int = 460,
    height: int = 240,
) -> str:
    """One monthly series; a month without a value leaves a gap in the line. The last value is
    printed by `y_format`, the axis by `tick_labels` (all ticks at once, so that they share one
    form), else each by `y_format`."""
    left, right, top, bottom = 52, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for _, v in points if v is not None]
    if not points or not known:
        return _svg(width, 60, label, [_text(width / 2, 34, "暂无数据", text_anchor="middle")])
    # Four grid steps of a round size (0.1, 0.25 …), so every tick label is a round number.
    y_max = y_top if y_top is not None else 4 * nice_ceiling(max(known) * 1.1 / 4)
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - min(max(v / y_max, 0), 1))

    body = []
    ticks = [y_max * k / 4 for k in range(5)]
    labels = tick_labels(ticks) if tick_labels else [y_format(t) for t in ticks]
    for tick, text in zip(ticks, labels, strict=True):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, y(tick) + 4, text, text_anchor="end", class_="axis"))
    years = sorted({d.year for d, _ in points})
    every = 1 if len(years) <= 7 else 2
    for i, (day, _) in enumerate(points):
        if (day.month == 1 and (day.year - years[0]) % every == 0) or i == 0:
            body.append(
                f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + plot_h}" '
                f'y2="{top + plot_h + 4}" stroke="{GREY}"/>'
            )
            text = f"{day.year}年" if day.month == 1 else f"{day.year}.{day.month:02d}"
            body.append(_text(x(i), height - 12, text, text_anchor="middle", class_="axis"))
    segments: list[list[str]] = [[]]
    for i, (_, v) in enumerate(points):
        if v is None:
            segments.append([])
        else:
            segments[-1].append(f"{x(i):.1f},{y(v):.1f}")
    for seg in segments:
        if len(seg) > 1:
            body.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                'stroke-width="2" stroke-linejoin="round"/>'
            )
        elif len(seg) == 1:
            cx, cy = seg[0].split(",")
            body.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
    last_i = max(i for i, (_, v) in enumerate(points) if v is not None)
    last_v = points[last_i][1]
    assert last_v is not None
    body.append(f'<circle cx="{x(last_i):.1f}" cy="{y(last_v):.1f}" r="3.5" fill="{colour}"/>')
    body.append(
        _text(
            min(x(last_i), width - right - 2),
            y(last_v) - 8,
            y_format(last_v),
            text_anchor="end",
            class_="point",
            fill=colour,
        )
    )
    body.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{GREY}"/>'
    )
    return _svg(width, height, label, body)


def funnel_chart(
    stages: Sequence[tuple[str, float | None, str]], *, label: str, width: int = 460
) -> str:
    """One cohort's stages (name, share of the cohort's leads 0–1, printed figure) as bars
    centred on one axis: each bar's width is its share of the leads, so the lead bar fills
    the track and every narrowing is the projects lost at that stage."""
    label_w, text_w, row_h, bar_h = 52, 112, 34, 24
    track_x, track_w = label_w, width - label_w - text_w
    height = len(stages) * row_h + 4
    shades = ["#17477f", "#1f5fa8", "#2f76c4", "#4d8fd6", "#74aae3"]
    body = []
    for i, (name, share, text) in enumerate(stages):
        y0 = 2 + i * row_h
        cy = y0 + row_h / 2 + 4
        body.append(_text(label_w - 10, cy, name, text_anchor="end", class_="funnel-label"))
        body.append(
            f'<rect x="{track_x}" y="{y0 + 5}" width="{track_w}" height="{bar_h}" rx="3" '
            f'fill="{GRID}" fill-opacity="0.45"/>'
        )
        if share is not None and share > 0:
            w = max(track_w * min(share, 1.0), 2.0)
            body.append(
                f'<rect x="{track_x + (track_w - w) / 2:.1f}" y="{y0 + 5}" width="{w:.1f}" '
                f'height="{bar_h}" rx="3" fill="{shades[i % len(shades)]}"/>'
            )
        body.append(_text(track_x + track_w + 8, cy, text, class_="funnel-label"))
    return _svg(width, height, label, body)


def progress_chart(
    rows: Sequence[tuple[str, float | None, float | None, str, str]],
    *,
    label: str,
    width: int = 720,
) -> str:
    """One bar per target: the share reached (capped at the track's end, 100%), a dashed tick
    where the share expected by the as-of date lies, the status colour."""
    label_w, text_w, row_h = 190, 170, 34
    track_x, track_w = label_w, width - label_w - text_w
    height = len(rows) * row_h + 22
    body = []
    for i, (name, share, expected, css, text) in enumerate(rows):
        y0 = 6 + i * row_h
        body.append(_text(label_w - 10, y0 + 17, name, text_anchor="end", class_="bar-label"))
        body.append(
            f'<rect x="{track_x}" y="{y0 + 5}" width="{track_w}" height="16" rx="3" fill="{GRID}"/>'
        )
        if share is not None:
            w = track_w * min(max(share, 0), 1)
            body.append(
                f'<rect x="{track_x}" y="{y0 + 5}" width="{w:.1f}" height="16" rx="3" '
                f'fill="{STATUS_COLOURS.get(css, GREY)}"/>'
            )
        if expected is not None:
            ex = track_x + track_w * min(max(expected, 0), 1)
            body.append(
                f'<line x1="{ex:.1f}" x2="{ex:.1f}" y1="{y0 + 1}" y2="{y0 + 25}" '
                'stroke="#222" stroke-width="1.5" stroke-dasharray="3,2"/>'
            )
        body.append(_text(track_x + track_w + 8, y0 + 17, text, class_="bar-value"))
    foot = len(rows) * row_h + 16
    for share in (0, 0.5, 1):
        body.append(
            _text(
                track_x + track_w * share,
                foot,
                format_share(share),
                text_anchor="middle",
                class_="axis",
            )
        )
    return _svg(width, height, label, body)


def bar_chart(
    rows: Sequence[tuple[str, float | None, str]],
    *,
    label: str,
    colour: str = BLUE,
    width: int = 420,
    text_w: int = 84,
) -> str:
    """Horizontal bars, longest = largest value, each with its printed figure."""
    label_w, row_h = 118, 22
    track_w = width - label_w - text_w
    height = max(len(rows), 1) * row_h + 6
    top = max((v for _, v, _ in rows if v is not None), default=0) or 1
    body = []
    for i, (name, value, text) in enumerate(rows):
        y0 = 4 + i * row_h
        shown = inert(name, limit=9)
        body.append(_text(label_w - 6, y0 + 13, shown, text_anchor="end", class_="bar-label"))
        if value is not None and value > 0:
            body.append(
                f'<rect x="{label_w}" y="{y0 + 3}" width="{track_w * value / top:.1f}" '
                f'height="13" rx="2" fill="{colour}"/>'
            )
        body.append(_text(width - text_w + 6, y0 + 13, text, class_="bar-value"))
    return _svg(width, height, label, body)

"""The forecast page (GET /series/{series_id}/dashboard): one self-contained HTML document.

Server-side SVG, no script, font, image or stylesheet from anywhere: the page works offline (saved with
curl, opened from disk) and under a strict Content-Security-Policy, which the response sets:
`default-src 'none'` forbids every fetch, and the one <style> element is allowed by its SHA-256 hash
rather than by 'unsafe-inline', so not even an inline style could be injected. The SVG is styled with
presentation attributes, which CSP does not govern. No template engine: f-strings, every text escaped.

Accessible: a title and headings, the chart as role="img" with a title and a description, axis labels
in words, and the numbers behind the chart in tables. Times follow the overview's zone (UTC until a
series has its own); the page says which.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import numpy as np

from lead_ai.api.router import Response
from lead_ai.domain.intervals import DAY_SECONDS, interval_name
from lead_ai.service.overview import SeriesOverview

# Chart geometry (SVG user units; the chart scales to the page width).
WIDTH, HEIGHT = 960, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 36, 52
MISSING = "\u2013"  # an en dash: no value
OBSERVED, FORECAST, BAND, GRID, TEXT, AGENTS = (
    "#1f4e79",
    "#c2410c",
    "#f59e0b",
    "#e5e7eb",
    "#374151",
    "#2f855a",
)

STYLE = """
:root{color-scheme:light}
body{margin:0;background:#f4f5f7;color:#1f2933;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 8px}
.sub{color:#52606d;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px;margin:0 0 20px}
.card{background:#fff;border:1px solid #e4e7eb;border-radius:10px;padding:12px 14px}
.card b{display:block;font-size:22px;margin-top:2px}
.card span{color:#52606d;font-size:13px}
figure{background:#fff;border:1px solid #e4e7eb;border-radius:10px;margin:0;padding:12px}
figcaption{color:#52606d;font-size:13px;padding:4px 6px 0}
svg{display:block;width:100%;height:auto}
table{border-collapse:collapse;background:#fff;font-size:13px;font-variant-numeric:tabular-nums}
caption{text-align:left;color:#52606d;padding:4px 0}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#f0f2f5}
details{margin:12px 0}
summary{cursor:pointer;color:#1f4e79}
.note{color:#52606d;font-size:13px}
""".strip()

STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def dashboard_response(overview: SeriesOverview) -> Response:
    return Response(
        200,
        render_dashboard(overview),
        "text/html; charset=utf-8",
        {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def render_dashboard(overview: SeriesOverview) -> str:
    series = escape(overview.series_id)
    zone = _zone_name(overview)
    fc = overview.forecast
    title = f"Lead forecast: {series}"
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<link rel="icon" href="data:,">',
            f"<title>{title}</title>",
            f"<style>{STYLE}</style>",
            "</head><body><main>",
            f"<h1>{title}</h1>",
            f'<p class="sub">{_subtitle(overview, zone)}</p>',
            _cards(overview),
            _chart_figure(overview, zone),
            _staffing_section(overview, zone),
            _data_tables(overview, zone),
            f'<p class="note">Interval {escape(interval_name(fc.interval_seconds))}; the band is the central '
            f"{fc.level:.0%} prediction interval. All times are {escape(zone)}.</p>",
            "</main></body></html>",
        ]
    )


# ------------------------------------------------------------------------------------------ text


def _zone_name(overview: SeriesOverview) -> str:
    return str(overview.zone)  # "UTC", or an IANA key such as "Europe/Berlin" for a ZoneInfo


def _daily(overview: SeriesOverview) -> bool:
    return overview.history.interval_seconds >= DAY_SECONDS


def _local(overview: SeriesOverview, ts: int) -> datetime:
    """The series' clock at a slot's stamp. A daily series' slot is a local date stored at its midnight
    UTC (as ingest keeps it): read in UTC, that stamp shows the date, and its day starts are the stamps."""
    return datetime.fromtimestamp(int(ts), UTC if _daily(overview) else overview.zone)


def _when(overview: SeriesOverview, ts: int) -> str:
    local = _local(overview, ts)
    if _daily(overview):
        return local.strftime("%a %d %b")
    label = local.strftime("%a %d %b %H:%M")
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():  # the clocks show it twice
        offset = local.strftime("%z")
        label += f" (UTC{offset[:3]}:{offset[3:]})"
    return label


def _number(value: float, digits: int = 1) -> str:
    return MISSING if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def _subtitle(overview: SeriesOverview, zone: str) -> str:
    fc, version = overview.forecast, overview.version
    parts = [f"Model version <b>{escape(fc.model_version)}</b>"]
    if fc.pool_id is not None:  # a new series: its group's pooled model forecasts until its own wins
        parts.append(f"of the pooled model {escape(fc.pool_id)} (this series has no model of its own yet)")
    if version is not None:
        parts.append(f"trained {escape(version.created_at[:16].replace('T', ' '))} UTC")
    if fc.fallback_from is not None:
        parts.append(f"(version {escape(fc.fallback_from)} could not be served)")
    parts.append(f"latest observation {escape(_when(overview, fc.origin))}")
    parts.append(f"times in {escape(zone)}")
    return " · ".join(parts)


def _cards(overview: SeriesOverview) -> str:
    fc = overview.forecast
    day = max(1, 86_400 // fc.interval_seconds)
    next_day = float(np.sum(fc.value[:day]))
    peak = int(np.argmax(fc.value))
    peak_agents = f" · {overview.staffing.plan[peak]['agents']} agents" if overview.staffing else ""
    coverage = (overview.version.metrics if overview.version is not None else {}).get("coverage", math.nan)
    hours = min(day, len(fc.value)) * fc.interval_seconds / 3600
    cards = [
        (
            f"Leads, next {hours:g} h",
            _number(next_day, 0),
            f"forecast from {escape(_when(overview, fc.origin))}",
        ),
        (
            "Busiest interval",
            f"{_number(float(fc.value[peak]))} leads",
            f"{escape(_when(overview, int(fc.timestamps[peak])))}{peak_agents}",
        ),
        _accuracy_card(overview),
        (
            f"{fc.level:.0%} interval coverage",
            _number(coverage, 2),
            f"{'the pooled model on held-out series' if fc.pool_id else 'in the backtest'}"
            f" (target {fc.level:.2f})",
        ),
    ]
    items = "".join(
        f'<div class="card"><span>{a}</span><b>{b}</b><span>{c}</span></div>' for a, b, c in cards
    )
    return f'<section class="cards" aria-label="Summary">{items}</section>'


def _accuracy_card(overview: SeriesOverview) -> tuple[str, str, str]:
    """The backtest of what serves this series. A young series served by its group's pool is judged on
    its own last days (`pool_fit`, in leads per interval), not on the pool's held-out series: those are
    other teams, and the page is about this one."""
    fit = overview.forecast.pool_fit
    if fit is not None and fit.origins > 0 and math.isfinite(fit.mae_served):
        return (
            f"Backtest MAE, its last {fit.origins} days",
            _number(fit.mae_served, 2),
            f"seasonal naive {_number(fit.mae_naive, 2)}" + _better(fit.mae_served, fit.mae_naive),
        )
    metrics = overview.version.metrics if overview.version is not None else {}
    mase, naive = metrics.get("mase", math.nan), metrics.get("baseline_mase", math.nan)
    where = " · the pooled model on held-out series" if overview.forecast.pool_id else ""
    return (
        "Backtest MASE",
        _number(mase, 3),
        f"seasonal naive {_number(naive, 3)}{_better(mase, naive)}{where}",
    )


def _better(error: float, naive: float) -> str:
    better = (1 - error / naive) if naive and math.isfinite(naive) and math.isfinite(error) else math.nan
    return f" · {better:.0%} better" if math.isfinite(better) and better > 0 else ""


# ----------------------------------------------------------------------------------------- chart


def _label(x: float, y: float, text: str, anchor: str = "middle") -> str:
    """An SVG text in the chart's small type; `text` must already be escaped."""
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="12" fill="{TEXT}">{text}</text>'


DAY_LABEL_HALF_WIDTH = 36  # "Wed 30 Dec" in the 12-unit type is ~65 units wide


def _day_label(x: float, y: float, text: str) -> str:
    """A date under its tick; one too near the chart's right edge to be centred ends at it instead (a
    centred label there was cut off: "Tue 08 D")."""
    return _label(x, y, text, "end" if x + DAY_LABEL_HALF_WIDTH > WIDTH else "middle")


class _Axes:
    """Maps (epoch seconds, value) to SVG coordinates inside the plot area."""

    def __init__(self, t0: int, t1: int, top: float, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.t0, self.t1, self.top = t0, max(t1, t0 + 1), top
        self.x0, self.x1 = LEFT, width - RIGHT
        self.y0, self.y1 = height - BOTTOM, TOP

    def x(self, ts: float) -> float:
        return round(self.x0 + (ts - self.t0) / (self.t1 - self.t0) * (self.x1 - self.x0), 1)

    def y(self, value: float) -> float:
        return round(self.y0 - value / self.top * (self.y0 - self.y1), 1)


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    raw = max(top, 1e-9) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(top / step) + 1)]


def _chart_top(overview: SeriesOverview) -> float:
    values = np.concatenate([overview.history.values, overview.forecast.upper, overview.forecast.value])
    finite = values[np.isfinite(values)]
    return _top_for(float(finite.max()) if finite.size else 1.0)


def _top_for(peak: float, count: int = 5) -> float:
    """The top of a value axis: a round tick with some room above the peak."""
    ticks = _nice_ticks(max(peak, 1.0) * 1.08, count)
    step = ticks[1] if len(ticks) > 1 else 1.0
    return ticks[-1] + step if ticks[-1] < max(peak, 1.0) * 1.04 else ticks[-1]


def _line_path(axes: _Axes, stamps: Iterable[int], values: Iterable[float]) -> tuple[str, int]:
    """An SVG path through the points; a missing value (NaN) breaks the line. Returns (d, points)."""
    parts: list[str] = []
    points = 0
    pen_down = False
    for ts, value in zip(stamps, values, strict=True):
        if not math.isfinite(value):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{axes.x(ts)},{axes.y(value)}")
        pen_down = True
        points += 1
    return "".join(parts), points


def _day_starts(overview: SeriesOverview, t0: int, t1: int) -> list[int]:
    day = _local(overview, t0).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = []
    while day.timestamp() <= t1:
        if day.timestamp() >= t0:
            starts.append(int(day.timestamp()))
        day = (day + timedelta(days=1, hours=3)).replace(hour=0)  # +3 h: a 23-hour day still advances
    return starts


def _chart_figure(overview: SeriesOverview, zone: str) -> str:
    history, fc = overview.history, overview.forecast
    step = history.interval_seconds
    h_stamps = history.first_timestamp + step * np.arange(len(history.values), dtype=np.int64)
    t0, t1 = int(h_stamps[0]), int(fc.timestamps[-1])
    axes = _Axes(t0, t1, _chart_top(overview))
    svg: list[str] = []
    # grid and y axis
    for tick in _nice_ticks(axes.top):
        y = axes.y(tick)
        svg.append(f'<line x1="{axes.x0}" x2="{axes.x1}" y1="{y}" y2="{y}" stroke="{GRID}"/>')
        svg.append(_label(axes.x0 - 8, y + 4, f"{tick:g}", "end"))
    days = _day_starts(overview, t0, t1)
    every = 1 if len(days) <= 12 else 2
    for i, ts in enumerate(days):
        x = axes.x(ts)
        svg.append(f'<line x1="{x}" x2="{x}" y1="{axes.y1}" y2="{axes.y0}" stroke="{GRID}"/>')
        if i % every == 0:
            label = _local(overview, ts).strftime("%a %d %b")
            svg.append(_day_label(x, axes.y0 + 18, label))
    svg.append(f'<line x1="{axes.x0}" x2="{axes.x1}" y1="{axes.y0}" y2="{axes.y0}" stroke="#9aa5b1"/>')
    unit = f"Leads per {escape(interval_name(step))}"
    svg.append(
        f'<text transform="translate(16 {(axes.y0 + axes.y1) / 2}) rotate(-90)" text-anchor="middle" '
        f'font-size="13" fill="{TEXT}">{unit}</text>'
    )
    svg.append(
        f'<text x="{(axes.x0 + axes.x1) / 2}" y="{HEIGHT - 8}" text-anchor="middle" font-size="13" '
        f'fill="{TEXT}">Date and time ({escape(zone)})</text>'
    )
    # interval band, then the lines on top
    upper = [
        f"{axes.x(t)},{axes.y(v)}" for t, v in zip(fc.timestamps.tolist(), fc.upper.tolist(), strict=True)
    ]
    lower = [
        f"{axes.x(t)},{axes.y(v)}" for t, v in zip(fc.timestamps.tolist(), fc.lower.tolist(), strict=True)
    ]
    svg.append(
        f'<polygon class="band" points="{" ".join(upper + lower[::-1])}" fill="{BAND}" fill-opacity="0.28" '
        f'stroke="none"><title>{fc.level:.0%} prediction interval</title></polygon>'
    )
    observed, n_observed = _line_path(axes, h_stamps.tolist(), history.values.tolist())
    svg.append(
        f'<path class="observed" data-points="{n_observed}" d="{observed}" fill="none" stroke="{OBSERVED}" '
        f'stroke-width="1.6" stroke-linejoin="round"/>'
    )
    predicted, n_predicted = _line_path(axes, fc.timestamps.tolist(), fc.value.tolist())
    svg.append(
        f'<path class="forecast" data-points="{n_predicted}" d="{predicted}" fill="none" stroke="{FORECAST}" '
        f'stroke-width="2" stroke-linejoin="round"/>'
    )
    now = axes.x(fc.origin)
    svg.append(
        f'<line x1="{now}" x2="{now}" y1="{axes.y1}" y2="{axes.y0}" stroke="#6b7280" stroke-dasharray="4 4"/>'
    )
    svg.append(_label(now - 6, axes.y1 + 12, "latest observation", "end"))
    svg.append(_legend(fc.level))
    description = (
        f"Observed leads per {interval_name(step)} from {_when(overview, t0)} to {_when(overview, fc.origin)}, "
        f"then the forecast of model {fc.model_version} to {_when(overview, t1)} with its {fc.level:.0%} "
        "interval. The same numbers are in the tables below."
    )
    return (
        '<figure aria-labelledby="chart-title">'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title">Leads: the last {len(history.values) * step // 86_400} days and the forecast</title>'
        f'<desc id="chart-desc">{escape(description)}</desc>' + "".join(svg) + "</svg>"
        f"<figcaption>{escape(description)}</figcaption></figure>"
    )


def _legend(level: float) -> str:
    x, y = LEFT + 8, 14
    items = [
        f'<line x1="{x}" x2="{x + 22}" y1="{y}" y2="{y}" stroke="{OBSERVED}" stroke-width="2"/>',
        f'<text x="{x + 28}" y="{y + 4}" font-size="12" fill="{TEXT}">observed</text>',
        f'<line x1="{x + 100}" x2="{x + 122}" y1="{y}" y2="{y}" stroke="{FORECAST}" stroke-width="2"/>',
        f'<text x="{x + 128}" y="{y + 4}" font-size="12" fill="{TEXT}">forecast</text>',
        f'<rect x="{x + 196}" y="{y - 6}" width="22" height="12" fill="{BAND}" fill-opacity="0.28"/>',
        f'<text x="{x + 224}" y="{y + 4}" font-size="12" fill="{TEXT}">{level:.0%} interval</text>',
    ]
    return '<g class="legend">' + "".join(items) + "</g>"


# -------------------------------------------------------------------------------------- staffing


def _staffing_section(overview: SeriesOverview, zone: str) -> str:
    plan = overview.staffing
    if plan is None:  # a daily series: Erlang C plans intervals of at most an hour
        return ""
    a = plan.assumptions
    fc = overview.forecast
    height = 200
    agents = [row["agents"] for row in plan.plan]
    top = _top_for(float(max([4, *agents])), 4)  # at least 0..6: whole agents on the axis
    t0 = int(fc.timestamps[0]) - fc.interval_seconds
    axes = _Axes(t0, int(fc.timestamps[-1]), top, height=height)
    bar = max(1.0, (axes.x1 - axes.x0) / max(len(agents), 1) - 1)
    svg = []
    for tick in _nice_ticks(top, 4):
        y = axes.y(tick)
        svg.append(f'<line x1="{axes.x0}" x2="{axes.x1}" y1="{y}" y2="{y}" stroke="{GRID}"/>')
        svg.append(_label(axes.x0 - 8, y + 4, f"{tick:g}", "end"))
    for ts, count in zip(fc.timestamps.tolist(), agents, strict=True):
        x = axes.x(ts - fc.interval_seconds)
        y = axes.y(count)
        svg.append(
            f'<rect class="agents" x="{x}" y="{y}" width="{bar:.1f}" height="{round(axes.y0 - y, 1)}" '
            f'fill="{AGENTS}"><title>{escape(_when(overview, ts))}: {count} agents</title></rect>'
        )
    for ts in _day_starts(overview, t0, int(fc.timestamps[-1])):
        label = _local(overview, ts).strftime("%a %d %b")
        svg.append(_day_label(axes.x(ts), axes.y0 + 18, label))
    svg.append(
        f'<text transform="translate(16 {(axes.y0 + axes.y1) / 2}) rotate(-90)" text-anchor="middle" '
        f'font-size="13" fill="{TEXT}">Agents</text>'
    )
    chart = (
        f'<figure><svg viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="staff-title" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="staff-title">Agents to schedule per {escape(interval_name(fc.interval_seconds))}</title>'
        + "".join(svg)
        + f"</svg><figcaption>Agents to schedule per interval ({escape(zone)}).</figcaption></figure>"
    )
    hours_digits = 2 if fc.interval_seconds < 1800 else 1  # quarter hours: 20.25, not 20.2
    daily = _table(
        "Agent hours per day",
        ["Day", "Leads (forecast)", "Agent hours"],
        [
            [escape(d["date"]), _number(d["leads"]), _number(d["agent_hours"], hours_digits)]
            for d in plan.daily
        ],
    )
    assumptions = (
        f"Erlang C with the default assumptions: {a['handle_seconds']:g} s per lead, "
        f"{a['service_level']:.0%} answered within {a['answer_within_seconds']:g} s, "
        f"{a['shrinkage']:.0%} shrinkage, occupancy at most {a['max_occupancy']:.0%}; "
        f"reps answer leads {a['open_hours']}, {a['open_days']} (the series' opening hours); "
        "planned for the point forecast."
    )
    return f'<h2>Staffing plan</h2><p class="note">{escape(assumptions)}</p>{chart}{daily}'


# ----------------------------------------------------------------------------------------- tables


def _table(caption: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _data_tables(overview: SeriesOverview, zone: str) -> str:
    history, fc = overview.history, overview.forecast
    step = history.interval_seconds
    observed = [
        [escape(_when(overview, history.first_timestamp + i * step)), _number(v)]
        for i, v in enumerate(history.values.tolist())
    ]
    agents = [[str(row["agents"])] for row in overview.staffing.plan] if overview.staffing else None
    forecast_rows: list[list[Any]] = [
        [escape(_when(overview, t)), _number(v), _number(lo), _number(hi), *(agents[i] if agents else [])]
        for i, (t, v, lo, hi) in enumerate(
            zip(fc.timestamps.tolist(), fc.value.tolist(), fc.lower.tolist(), fc.upper.tolist(), strict=True)
        )
    ]
    return (
        "<h2>The numbers</h2>"
        f"<details><summary>Forecast, {len(forecast_rows)} intervals</summary>"
        + _table(
            f"Forecast of model {fc.model_version} ({zone})",
            [
                "Time",
                "Leads",
                f"Low ({(1 - fc.level) / 2:.0%})",
                f"High ({(1 + fc.level) / 2:.0%})",
                *(["Agents"] if agents else []),
            ],
            forecast_rows,
        )
        + "</details>"
        f"<details><summary>Observed, {len(observed)} intervals</summary>"
        + _table(
            f"Observed leads ({zone}); {MISSING} marks an interval nobody reported",
            ["Time", "Leads"],
            observed,
        )
        + "</details>"
    )

"""A self-contained HTML report of a leaderboard: tables and inline SVG charts, no network needed.

Works from `Leaderboard.to_dict()` (so a stored or merged leaderboard renders the same way) plus
the round's metadata (project, batch, export task...). Charts are drawn by the small SVG helpers
below: ratings with interval bars, the win-rate heatmap and answer distributions per question.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#9d755d")
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
.meta td{text-align:left}.muted{color:#777}svg text{font-size:12px;font-family:inherit}
"""


def render_html(
    board: Mapping[str, Any], metadata: Mapping[str, Any] | None = None, *, title: str = ""
) -> str:
    """The whole report as one HTML document."""
    metadata = dict(metadata or {})
    heading = title or f"Evaluation round {metadata.get('batch_name') or ''}".strip()
    sections = [
        f"<h1>{_e(heading)}</h1>",
        _metadata_table(metadata, board.get("counts") or {}),
        "<h2>Leaderboard</h2>",
        _leaderboard_table(board.get("models") or []),
        "<h2>Ratings with 95% intervals</h2>",
        _ratings_chart(board.get("models") or []),
        "<h2>Win rates (row beats column)</h2>",
        _heatmap(board.get("win_rates") or {}),
        "<h2>Answers per question and model</h2>",
        *[_tally_chart(t) for t in board.get("tallies") or []],
        "<h2>Rater agreement and position bias</h2>",
        _key_values("Agreement", board.get("agreement") or {}),
        _key_values("Position bias", board.get("position_bias") or {}),
        "<h2>Free-text answers (samples)</h2>",
        _text_samples(board.get("text_samples") or {}),
    ]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(heading)}</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, digits: int = 1) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.{digits}f}"
    return "&ndash;"


def _metadata_table(metadata: Mapping[str, Any], counts: Mapping[str, Any]) -> str:
    rows = [(k, v) for k, v in metadata.items() if v is not None]
    rows += [(f"{k}", v) for k, v in counts.items() if isinstance(v, int | float | str)]
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="meta" id="round-metadata">{cells}</table>'


def _leaderboard_table(models: Sequence[Mapping[str, Any]]) -> str:
    head = "<tr><th>#</th><th>Model</th><th>Rating</th><th>95% interval</th><th>Wins</th><th>Losses</th><th>Ties</th><th>Win rate</th></tr>"
    rows = "".join(
        f"<tr><td>{_e(m.get('rank'))}</td><td>{_e(m.get('model'))}</td><td>{_num(m.get('rating'))}</td>"
        f"<td>{_num(m.get('ci_low'))} &ndash; {_num(m.get('ci_high'))}</td><td>{_e(m.get('wins'))}</td>"
        f"<td>{_e(m.get('losses'))}</td><td>{_e(m.get('ties'))}</td><td>{_num(_pct(m.get('win_rate')), 0)}%</td></tr>"
        for m in models
    )
    return f'<table id="leaderboard">{head}{rows}</table>'


def _pct(value: Any) -> float | None:
    return value * 100 if isinstance(value, int | float) else None


def _ratings_chart(models: Sequence[Mapping[str, Any]]) -> str:
    values = [float(v) for m in models for v in (m["ci_low"], m["ci_high"], m["rating"]) if _finite(v)]
    if not values:
        return '<p class="muted">No ratings yet.</p>'
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    left, width, row = 160, 520, 26
    height = row * len(models) + 30

    def x(v: float) -> float:
        return left + (v - low) / span * width

    parts = []
    for i, m in enumerate(models):
        y = 20 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{_e(m.get("model"))}</text>')
        if _finite(m.get("ci_low")) and _finite(m.get("ci_high")):
            parts.append(
                f'<line x1="{x(m["ci_low"]):.1f}" x2="{x(m["ci_high"]):.1f}" y1="{y}" y2="{y}" stroke="#999" stroke-width="3"/>'
            )
        if _finite(m.get("rating")):
            parts.append(f'<circle cx="{x(m["rating"]):.1f}" cy="{y}" r="5" fill="{_PALETTE[0]}"/>')
            parts.append(f'<text x="{left + width + 10}" y="{y + 4}">{_num(m["rating"])}</text>')
    axis = f'<text x="{left}" y="{height - 4}" class="muted">{_num(low)}</text><text x="{left + width}" y="{height - 4}" text-anchor="end">{_num(high)}</text>'
    return f'<svg id="ratings-chart" width="{left + width + 80}" height="{height}" role="img" aria-label="ratings">{"".join(parts)}{axis}</svg>'


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _heatmap(win_rates: Mapping[str, Any]) -> str:
    models = list(win_rates.get("models") or [])
    matrix = win_rates.get("win_rate") or []
    if not models:
        return '<p class="muted">No comparisons yet.</p>'
    cell, left, top = 56, 150, 110
    parts = []
    for j, name in enumerate(models):
        cx = left + j * cell + cell / 2
        parts.append(f'<text transform="translate({cx:.0f},{top - 8}) rotate(-40)">{_e(name)}</text>')
    for i, name in enumerate(models):
        y = top + i * cell
        parts.append(f'<text x="{left - 8}" y="{y + cell / 2 + 4:.0f}" text-anchor="end">{_e(name)}</text>')
        for j in range(len(models)):
            value = matrix[i][j] if i < len(matrix) and j < len(matrix[i]) else None
            fill = _heat_color(value) if i != j else "#f4f4f4"
            label = _num(_pct(value), 0) + "%" if _finite(value) and i != j else ""
            parts.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"/>'
                f'<text x="{left + j * cell + cell / 2 - 1:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle">{label}</text>'
            )
    size = left + cell * len(models) + 10
    return f'<svg id="win-rate-heatmap" width="{size}" height="{top + cell * len(models) + 10}" role="img" aria-label="win rates">{"".join(parts)}</svg>'


def _heat_color(value: Any) -> str:
    """Blue for wins, red for losses, white at 50%."""
    if not _finite(value):
        return "#fafafa"
    t = max(0.0, min(1.0, float(value)))
    if t >= 0.5:
        k = (t - 0.5) * 2
        return f"rgb({int(255 - 179 * k)},{int(255 - 135 * k)},{int(255 - 87 * k)})"
    k = (0.5 - t) * 2
    return f"rgb({int(255 - 27 * k)},{int(255 - 168 * k)},{int(255 - 169 * k)})"


def _tally_chart(tally: Mapping[str, Any]) -> str:
    targets: Mapping[str, Any] = tally.get("targets") or {}
    answers = sorted({a for t in targets.values() for a in (t.get("answers") or {})})
    if not answers:
        return ""
    colors = {a: _PALETTE[i % len(_PALETTE)] for i, a in enumerate(answers)}
    left, width, row = 160, 480, 24
    parts = []
    for i, (target, data) in enumerate(sorted(targets.items())):
        y = 8 + i * row
        counts: Mapping[str, int] = data.get("answers") or {}
        total = sum(counts.values()) or 1
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_e(target)}</text>')
        offset = 0.0
        for answer in answers:
            share = counts.get(answer, 0) / total
            if share:
                parts.append(
                    f'<rect x="{left + offset * width:.1f}" y="{y}" width="{share * width:.1f}" height="{row - 6}" '
                    f'fill="{colors[answer]}"><title>{_e(answer)}: {counts.get(answer, 0)}</title></rect>'
                )
            offset += share
    legend = " ".join(
        f'<span style="display:inline-block;width:10px;height:10px;background:{colors[a]}"></span> {_e(a)}'
        for a in answers
    )
    height = 16 + row * len(targets)
    return (
        f'<h3>{_e(tally.get("question"))} <span class="muted">({_e(tally.get("kind"))})</span></h3>'
        f'<svg class="answer-distribution" width="{left + width + 10}" height="{height}" role="img">{"".join(parts)}</svg>'
        f"<div>{legend}</div>"
    )


def _key_values(title: str, data: Mapping[str, Any]) -> str:
    if not data:
        return f'<p class="muted">{_e(title)}: not available.</p>'
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_short(v))}</td></tr>" for k, v in _flatten(data))
    return f'<h3>{_e(title)}</h3><table class="meta">{rows}</table>'


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items.extend(_flatten(value, f"{name}."))
        else:
            items.append((name, value))
    return items


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if math.isfinite(value) else "n/a"
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _text_samples(samples: Mapping[str, Any]) -> str:
    if not samples:
        return '<p class="muted">No free-text answers.</p>'
    blocks = []
    for question, data in samples.items():
        items = "".join(f"<li>{_e(s.get('text'))}</li>" for s in (data.get("samples") or [])[:10])
        blocks.append(
            f"<h3>{_e(question)} <span class='muted'>({_e(data.get('answers'))} answers)</span></h3><ul>{items}</ul>"
        )
    return "".join(blocks)

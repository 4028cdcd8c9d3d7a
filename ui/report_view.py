"""Rendering helpers for a report (charts, highlighted transcript, synced replay). Display only.

Charts are Vega-Lite specs written out here (Streamlit draws them with the Vega it ships) and, in the
replay player, the PDF's inline SVG charts: no charting library is imported. Plotly was dropped
because Streamlit imports it at server start whenever it is installed (~0.2 s of the cold start) and
the player had to inline plotly.js (~4.6 MB) next to the recording.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from coach_core.reporting.charts import LINE_COLOUR, line_chart
from coach_core.reporting.report_context import (
    LOUDNESS_COLOUR,
    LOUDNESS_FLOOR_DBFS,
    PAUSE_COLOUR,
    PITCH_COLOUR,
    SPIKE_COLOUR,
    pause_bands,
    spike_bands,
)
from coach_core.schema import Report, Series

MAX_REPLAY_BYTES = 80 * 1024 * 1024
EYE_CONTACT_COLOUR = "#d69e2e"
SERIES_COLOURS = {"pace (wpm)": LINE_COLOUR, "pitch (Hz)": PITCH_COLOUR, "eye contact (%)": EYE_CONTACT_COLOUR,
                  "loudness (dBFS)": LOUDNESS_COLOUR}  # fmt: skip
SCORE_COLOURS = {"overall": "#1a202c", "content": "#2b6cb0", "confidence": "#805ad5", "clarity": "#2f855a",
                 "resilience": "#dd6b20", "engagement": "#d53f8c"}  # fmt: skip


def _points(series: Series | None, name: str, scale: float = 1.0) -> list[dict[str, Any]]:
    """Long-format rows; a None value stays None so the line breaks there instead of bridging a gap."""
    if series is None:
        return []
    return [{"t": round(t, 2), "value": None if v is None else round(v * scale, 2), "series": name}
            for t, v in zip(series.t, series.values, strict=False)]  # fmt: skip


def _colour(names: list[str], colours: dict[str, str]) -> dict[str, Any]:
    return {"field": "series", "type": "nominal", "title": None,
            "scale": {"domain": names, "range": [colours[n] for n in names]}}  # fmt: skip


def timeline_spec(report: Report) -> dict[str, Any] | None:
    """Pace, pitch and eye contact (left axis) and loudness (right axis) over the answer, with long
    pauses (orange) and stress spikes (red) shaded. None when nothing was measured over time."""
    voice, face = report.voice, report.face
    left = _points(voice and voice.pace, "pace (wpm)") + _points(voice and voice.pitch, "pitch (Hz)")
    if face is not None and face.available:
        left += _points(face.eye_contact, "eye contact (%)", scale=100)
    right = _points(voice and voice.loudness, "loudness (dBFS)")
    if not any(r["value"] is not None for r in left + right):
        return None
    names = [n for n in SERIES_COLOURS if any(r["series"] == n for r in left + right)]
    x = {"field": "t", "type": "quantitative", "title": "seconds", "scale": {"domain": [0, report.duration_s]}}
    layers: list[dict[str, Any]] = []
    for stretches, colour in ((pause_bands(report), PAUSE_COLOUR), (spike_bands(report), SPIKE_COLOUR)):
        if stretches:
            layers.append({
                "data": {"values": [{"start": round(b.start, 2), "end": round(b.end, 2)} for b in stretches]},
                "mark": {"type": "rect", "color": colour, "opacity": 0.2},
                "encoding": {"x": {**x, "field": "start"}, "x2": {"field": "end"}},
            })  # fmt: skip
    line = {"type": "line", "invalid": None, "strokeWidth": 1.6}
    tooltip = [{"field": "series", "type": "nominal"}, {"field": "t", "type": "quantitative", "title": "s"},
               {"field": "value", "type": "quantitative", "format": ".0f"}]  # fmt: skip
    if left:
        layers.append({
            "data": {"values": left}, "mark": line,
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": None},
                         "color": _colour(names, SERIES_COLOURS), "tooltip": tooltip},
        })  # fmt: skip
    if right:
        floor = [{**r, "value": max(r["value"], LOUDNESS_FLOOR_DBFS)} if r["value"] is not None else r for r in right]
        layers.append({
            "data": {"values": floor}, "mark": line,
            "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": "loudness (dBFS)",
                                       "axis": {"orient": "right", "grid": False}, "scale": {"zero": False}},
                         "color": _colour(names, SERIES_COLOURS), "tooltip": tooltip},
        })  # fmt: skip
    return {"height": 300, "layer": layers, "resolve": {"scale": {"y": "independent"}},
            "config": {"legend": {"orient": "top"}}}  # fmt: skip


def trend_spec(points: dict[str, list[tuple[datetime, float]]], daily: bool) -> dict[str, Any]:
    """Scores over time, one line per score (0-100). ``points`` maps a score's name to (time, value)."""
    rows = [{"t": t.isoformat(timespec="seconds"), "value": round(v, 1), "series": name}
            for name, series in points.items() for t, v in series]  # fmt: skip
    times = sorted(t for series in points.values() for t, _ in series)
    x: dict[str, Any] = {"field": "t", "type": "temporal", "title": None,
                         "axis": {"format": "%d %b" if daily else "%d %b %H:%M", "labelOverlap": True}}  # fmt: skip
    if times and times[-1] - times[0] < timedelta(hours=1):  # a single session would zoom to milliseconds
        lo, hi = times[0] - timedelta(hours=12), times[-1] + timedelta(hours=12)
        x["scale"] = {"domain": [lo.isoformat(timespec="seconds"), hi.isoformat(timespec="seconds")]}
    names = [n for n in SCORE_COLOURS if n in points]
    return {
        "height": 320,
        "layer": [{  # data inside the layer stays inline in the spec (top-level data goes through pandas)
            "data": {"values": rows},
            "mark": {"type": "line", "point": True, "strokeWidth": 1.6},
            "encoding": {
                "x": x, "y": {"field": "value", "type": "quantitative", "title": "score", "scale": {"domain": [0, 100]}},
                "color": _colour(names, SCORE_COLOURS),
                "tooltip": [{"field": "series", "type": "nominal", "title": "score"},
                            {"field": "t", "type": "temporal", "format": "%d %b %H:%M", "title": "when"},
                            {"field": "value", "type": "quantitative", "format": ".0f"}],
            },
        }],
        "config": {"legend": {"orient": "top"}},
    }  # fmt: skip


def transcript_html(report: Report) -> str:
    """The transcript with fillers, hedges and long pauses highlighted; user text escaped."""
    m = report.metrics
    fillers = [(e.start, e.end) for e in m.filler_events]
    hedges = [(e.start, e.end) for e in m.hedge_events]
    pauses = {round(p.start, 2): p.duration_s for p in m.pauses.long}
    parts = []
    for i, w in enumerate(report.words):
        mid = (w.start + w.end) / 2
        cls = "filler" if any(a - 0.01 <= mid <= b + 0.01 for a, b in fillers) else (
            "hedge" if any(a - 0.01 <= mid <= b + 0.01 for a, b in hedges) else "")  # fmt: skip
        attrs = f' class="w {cls}" data-i="{i}" data-t="{w.start:.2f}" title="{w.start:.1f}s"'
        parts.append(f"<span{attrs}>{html.escape(w.word)}</span>")
        gap = pauses.get(round(w.end, 2))
        if gap:
            parts.append(f'<span class="pause" data-t="{w.end:.2f}">⏸ {gap:.1f}s</span>')
    style = (
        "<style>.tx{line-height:1.9;font-size:1rem}.w{padding:1px 2px;border-radius:3px;cursor:pointer}"
        ".filler{background:#fed7d7}.hedge{background:#fefcbf}.pause{background:#bee3f8;padding:1px 4px;"
        "border-radius:3px;margin:0 3px;font-size:.85em;cursor:pointer}.now{outline:2px solid #2b6cb0}</style>"
    )
    return style + '<div class="tx">' + " ".join(parts) + "</div>"


def replay_charts(report: Report) -> list[tuple[str, str]]:
    """The replay's timelines as (title, SVG): the PDF's charts, full width, long pauses and stress
    spikes shaded; the player draws a playback cursor over each."""
    duration = report.duration_s
    bands = pause_bands(report) + spike_bands(report)
    charts: list[tuple[str, str]] = []
    v = report.voice
    if v is not None:
        charts += [
            ("Pace (words per minute)", line_chart(v.pace, title="Pace", unit="words/min", duration_s=duration,
                                                   bands=bands, wide=True)),
            ("Pitch (Hz)", line_chart(v.pitch, title="Pitch", unit="Hz", duration_s=duration, bands=bands,
                                      colour=PITCH_COLOUR, wide=True)),
            ("Loudness (dBFS)", line_chart(v.loudness, title="Loudness", unit="dBFS", duration_s=duration,
                                           bands=bands, floor=LOUDNESS_FLOOR_DBFS, colour=LOUDNESS_COLOUR, wide=True)),
        ]  # fmt: skip
    f = report.face
    if f is not None and f.available:
        charts.append(("Eye contact (% of each second, proxy)",
                       line_chart(f.eye_contact, title="Eye contact", unit="%", duration_s=duration, bands=bands,
                                  scale=100, y_range=(0, 100), colour=EYE_CONTACT_COLOUR, wide=True)))  # fmt: skip
    return [(title, str(svg)) for title, svg in charts]


def replay_html(report: Report, media_path: Path, has_video: bool) -> str | None:
    """A self-contained player: video/audio, the timelines with a cursor that follows playback,
    the current word highlighted, and markers (long pauses, stress spikes) to jump to.
    Works offline and fetches nothing: the media is inlined, the charts are inline SVG."""
    if not media_path.exists() or media_path.stat().st_size > MAX_REPLAY_BYTES:
        return None
    mime = "video/webm" if has_video else "audio/webm"
    suffix = media_path.suffix.lower()
    mime = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".wav": "audio/wav", ".mp3": "audio/mpeg",
            ".ogg": "audio/ogg", ".flac": "audio/flac", ".mov": "video/mp4"}.get(suffix, mime)  # fmt: skip
    data = base64.b64encode(media_path.read_bytes()).decode()
    tag = "video" if has_video else "audio"
    markers = [{"t": p.start, "label": f"long pause {p.duration_s:.1f}s"} for p in report.metrics.pauses.long]
    if report.stress is not None:
        markers += [{"t": s.start, "label": "stress spike: " + ", ".join(s.drivers)} for s in report.stress.spikes]
    markers.sort(key=lambda m: m["t"])
    buttons = "".join(
        f'<button class="mk" data-t="{m["t"]:.2f}">{int(m["t"]) // 60}:{int(m["t"]) % 60:02d} {html.escape(m["label"])}</button>'
        for m in markers
    )
    charts = "".join(
        f'<div class="ch"><div class="ct">{html.escape(t)}</div>{c}</div>' for t, c in replay_charts(report)
    )
    return f"""
<{tag} id="player" controls style="width:100%;max-height:360px" src="data:{mime};base64,{data}"></{tag}>
<div>{buttons}</div>
<div id="charts">{charts}</div>
{transcript_html(report)}
<style>.mk{{margin:2px;border:1px solid #cbd5e0;background:#f7fafc;border-radius:4px;cursor:pointer}}
.ch svg{{width:100%;height:auto;display:block;cursor:pointer}}.ct{{font-size:.8rem;color:#4a5568;margin-top:6px}}
body{{font-family:sans-serif}}</style>
<script>
const SVG = 'http://www.w3.org/2000/svg';
const player = document.getElementById('player');
const charts = Array.from(document.querySelectorAll('svg.chart')).map(svg => {{
  const d = svg.dataset, x0 = +d.x0, x1 = +d.x1, end = +d.end;
  const cursor = document.createElementNS(SVG, 'line');
  cursor.setAttribute('y1', d.y0); cursor.setAttribute('y2', d.y1);
  cursor.setAttribute('stroke', '#1a202c'); cursor.setAttribute('stroke-width', '1.5');
  svg.appendChild(cursor);
  svg.addEventListener('click', ev => {{  // click a chart to jump to that moment
    const box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
    const x = (ev.clientX - box.left) * vb.width / box.width;
    seek(Math.max(0, Math.min(end, (x - x0) / (x1 - x0) * end)));
  }});
  return {{cursor, x0, x1, end}};
}});
const words = Array.from(document.querySelectorAll('.w'));
const seek = t => {{ player.currentTime = parseFloat(t); player.play(); }};
document.querySelectorAll('[data-t]').forEach(el => el.addEventListener('click', () => seek(el.dataset.t)));
let last = null;
const follow = () => {{
  const t = player.currentTime;
  for (const c of charts) {{
    const x = c.x0 + (c.x1 - c.x0) * Math.min(t, c.end) / c.end;
    c.cursor.setAttribute('x1', x); c.cursor.setAttribute('x2', x);
  }}
  let cur = null; for (const w of words) {{ if (parseFloat(w.dataset.t) <= t) cur = w; else break; }}
  if (cur !== last) {{ if (last) last.classList.remove('now'); if (cur) cur.classList.add('now'); last = cur; }}
}};
player.addEventListener('timeupdate', follow);
follow();
</script>"""


def report_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)

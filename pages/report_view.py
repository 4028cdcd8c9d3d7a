"""Rendering helpers for a report (charts, highlighted transcript, synced replay). Display only."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import plotly.graph_objects as go

from coach_core.schema import Report, Series

MAX_REPLAY_BYTES = 80 * 1024 * 1024


def timeline_figure(report: Report) -> go.Figure:
    fig = go.Figure()

    def add(series: Series | None, name: str, axis: str = "y") -> None:
        if series is not None and series.t:
            fig.add_scatter(x=series.t, y=series.values, name=name, mode="lines", yaxis=axis, connectgaps=False)

    voice = report.voice
    if voice is not None:
        add(voice.pace, "pace (wpm)")
        add(voice.pitch, "pitch (Hz)")
        add(voice.loudness, "loudness (dBFS)", "y2")
    face = report.face
    if face is not None and face.available:
        fig.add_scatter(x=face.eye_contact.t, y=[None if v is None else v * 100 for v in face.eye_contact.values],
                        name="eye contact (%)", mode="lines", line={"dash": "dot"})  # fmt: skip
    for pause in report.metrics.pauses.long:
        fig.add_vrect(x0=pause.start, x1=pause.end, fillcolor="orange", opacity=0.2, line_width=0)
    if report.stress is not None:
        for spike in report.stress.spikes:
            fig.add_vrect(x0=spike.start, x1=spike.end, fillcolor="red", opacity=0.15, line_width=0)
    fig.update_layout(
        height=320, margin={"l": 40, "r": 40, "t": 30, "b": 30}, xaxis_title="seconds",
        yaxis2={"overlaying": "y", "side": "right", "showgrid": False}, legend={"orientation": "h", "y": 1.15},
    )  # fmt: skip
    return fig


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


def replay_html(report: Report, media_path: Path, has_video: bool) -> str | None:
    """A self-contained player: video/audio, the timeline with a cursor that follows playback,
    the current word highlighted, and markers (long pauses, stress spikes) to jump to.
    Works offline: plotly.js is inlined from the installed plotly package."""
    from plotly.offline import get_plotlyjs

    if not media_path.exists() or media_path.stat().st_size > MAX_REPLAY_BYTES:
        return None
    mime = "video/webm" if has_video else "audio/webm"
    suffix = media_path.suffix.lower()
    mime = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".wav": "audio/wav", ".mp3": "audio/mpeg",
            ".ogg": "audio/ogg", ".flac": "audio/flac", ".mov": "video/mp4"}.get(suffix, mime)  # fmt: skip
    data = base64.b64encode(media_path.read_bytes()).decode()
    tag = "video" if has_video else "audio"
    fig = timeline_figure(report)
    fig.add_vline(x=0, line_color="#2b6cb0")
    markers = [{"t": p.start, "label": f"long pause {p.duration_s:.1f}s"} for p in report.metrics.pauses.long]
    if report.stress is not None:
        markers += [{"t": s.start, "label": "stress spike: " + ", ".join(s.drivers)} for s in report.stress.spikes]
    markers.sort(key=lambda m: m["t"])
    buttons = "".join(
        f'<button class="mk" data-t="{m["t"]:.2f}">{int(m["t"]) // 60}:{int(m["t"]) % 60:02d} {html.escape(m["label"])}</button>'
        for m in markers
    )
    return f"""
<script>{get_plotlyjs()}</script>
<{tag} id="player" controls style="width:100%;max-height:360px" src="data:{mime};base64,{data}"></{tag}>
<div>{buttons}</div>
<div id="chart"></div>
{transcript_html(report)}
<style>.mk{{margin:2px;border:1px solid #cbd5e0;background:#f7fafc;border-radius:4px;cursor:pointer}}</style>
<script>
const fig = {fig.to_json()};
Plotly.newPlot('chart', fig.data, fig.layout, {{displayModeBar:false, responsive:true}});
const player = document.getElementById('player');
const words = Array.from(document.querySelectorAll('.w'));
const seek = t => {{ player.currentTime = parseFloat(t); player.play(); }};
document.querySelectorAll('[data-t]').forEach(el => el.addEventListener('click', () => seek(el.dataset.t)));
let last = null;
player.addEventListener('timeupdate', () => {{
  const t = player.currentTime;
  const shapes = fig.layout.shapes.slice(); shapes[shapes.length-1] = Object.assign({{}}, shapes[shapes.length-1], {{x0:t, x1:t}});
  Plotly.relayout('chart', {{shapes: shapes}});
  let cur = null; for (const w of words) {{ if (parseFloat(w.dataset.t) <= t) cur = w; else break; }}
  if (cur !== last) {{ if (last) last.classList.remove('now'); if (cur) cur.classList.add('now'); last = cur; }}
}});
</script>"""


def report_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)

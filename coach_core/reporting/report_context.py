"""What the PDF template shows, worked out from a :class:`Report`: formatted values, charts, transcript.

The template only lays things out; every number it prints is prepared here. Values are plain Python
data and user text stays plain text: the template's autoescape escapes it, and the charts escape
their own labels.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import escape

from coach_core.formatting import clock
from coach_core.reporting.charts import Band, bar_chart, line_chart
from coach_core.schema import Report, ScoreDetail, VoiceMetrics

SCORE_NAMES = ("confidence", "clarity", "resilience", "engagement")
GOOD_SCORE = 75.0  # colour bands for a 0-100 score, only for reading the page at a glance
FAIR_SCORE = 50.0
PAUSE_COLOUR = "#dd6b20"
SPIKE_COLOUR = "#e53e3e"
OUT_OF_VIEW_COLOUR = "#718096"
PITCH_COLOUR = "#805ad5"
LOUDNESS_COLOUR = "#2f855a"
LOUDNESS_FLOOR_DBFS = -60.0  # quieter is silence between words; showing it would flatten the speech


def band(score: float | None) -> str:
    if score is None:
        return "na"
    return "good" if score >= GOOD_SCORE else "fair" if score >= FAIR_SCORE else "low"


def fmt(value: float | None, digits: int = 1, unit: str = "", scale: float = 1.0) -> str:
    """A number for the page; "n/a" when it was not measured."""
    if value is None:
        return "n/a"
    text = f"{value * scale:.{digits}f}"
    return f"{text} {unit}".rstrip() if unit and unit not in {"%", "°"} else f"{text}{unit}"


def when(created_at: str) -> str:
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return created_at
    zone = moment.tzname() or ""
    return f"{moment:%d %b %Y, %H:%M} {'UTC' if zone in {'UTC', 'UTC+00:00'} else zone}".strip()


@dataclass
class Token:
    text: str
    kind: str = ""  # "filler" | "hedge" | ""
    pause_after_s: float | None = None


def transcript_tokens(report: Report) -> list[Token]:
    """Transcript words with fillers and hedges marked (a two-word filler stays one mark) and long
    pauses placed after the word before them."""
    m = report.metrics
    events = [("filler", e.start, e.end) for e in m.filler_events] + [("hedge", e.start, e.end) for e in m.hedge_events]
    long_pauses = {round(p.start, 2): p.duration_s for p in m.pauses.long}
    tokens: list[Token] = []
    previous_event = -1
    for w in report.words:
        mid = (w.start + w.end) / 2
        event = next((i for i, (_, a, b) in enumerate(events) if a - 0.01 <= mid <= b + 0.01), -1)
        kind = events[event][0] if event >= 0 else ""
        text = w.word.strip()
        if event >= 0 and event == previous_event and tokens and tokens[-1].pause_after_s is None:
            tokens[-1].text += " " + text
        else:
            tokens.append(Token(text, kind))
        tokens[-1].pause_after_s = long_pauses.get(round(w.end, 2))
        previous_event = event
    if not tokens and report.transcript:
        tokens = [Token(report.transcript)]
    return tokens


def _unit(unit: str) -> str:
    return "on a 0–1 scale" if unit == "0-1" else unit


def _score_row(name: str, detail: ScoreDetail | None, value: float | None) -> dict[str, Any]:
    inputs = []
    for i in detail.inputs if detail else []:
        inputs.append(
            {
                "name": i.name,
                "value": "unavailable" if i.value is None else f"{fmt(i.value, 2)} {_unit(i.unit)}".strip(),
                "points": f"{i.points:.1f}",
                "weight": f"{i.weight:.0%}",
                "note": "" if i.note == "unavailable" else i.note,
                "available": i.value is not None,
            }
        )
    return {
        "name": name.title(),
        "value": fmt(value, 0),
        "band": band(value),
        "summary": detail.summary if detail else "",
        "inputs": inputs,
        "unavailable": list(detail.unavailable) if detail else [],
    }


def pause_bands(report: Report) -> list[Band]:
    """The answer's long pauses, to shade on a timeline."""
    return [Band(p.start, p.end, PAUSE_COLOUR, "long pause") for p in report.metrics.pauses.long]


def spike_bands(report: Report) -> list[Band]:
    """The answer's stress spikes, to shade on a timeline (none when stress was not measured)."""
    spikes = report.stress.spikes if report.stress is not None else []
    return [Band(x.start, x.end, SPIKE_COLOUR, "stress spike") for x in spikes]


def pitch_variation_text(voice: VoiceMetrics) -> str:
    """The line "Pitch variation: 2.3 st": the SD of pitch in semitones around the speaker's median, with its unit."""
    return f"Pitch variation: {fmt(voice.pitch_variability_st, 1, 'st')}"


def _voice(report: Report, bands: list[Band]) -> dict[str, Any] | None:
    v = report.voice
    if v is None:
        return None
    duration = report.duration_s
    rows = [
        ("Pitch (mean / median)", f"{fmt(v.pitch_mean_hz, 0)} / {fmt(v.pitch_median_hz, 0, 'Hz')}"),
        ("Pitch variation", f"{fmt(v.pitch_variability_st, 1, 'st')} (SD in semitones around your median)"),
        ("Pitch range", fmt(v.pitch_range_st, 1, "semitones")),
        ("Jitter / shimmer", f"{fmt(v.jitter_local_pct, 2, '%')} / {fmt(v.shimmer_local_pct, 1, '%')}"),
        ("Harmonics-to-noise", fmt(v.hnr_db, 1, "dB")),
        ("Loudness", f"{fmt(v.loudness_dbfs, 1, 'dBFS')} (varies by {fmt(v.loudness_variability_db, 1, 'dB')})"),
        ("Sentence endings trailing off", fmt(v.trailing_off_ratio, 0, "%", 100)),
        ("Voiced share of the answer", fmt(v.voiced_ratio, 0, "%", 100)),
        ("Voice measures reliability", f"{fmt(v.confidence, 0, '%', 100)}"
         + (f" ({'; '.join(v.confidence_reasons)})" if v.confidence_reasons else "")),
    ]  # fmt: skip
    charts = [
        line_chart(v.pace, title="Pace", unit="words/min", duration_s=duration, bands=bands, wide=True),
        line_chart(v.pitch, title="Pitch", unit="Hz", duration_s=duration, colour=PITCH_COLOUR),
        line_chart(
            v.loudness,
            title="Loudness",
            unit="dBFS",
            duration_s=duration,
            floor=LOUDNESS_FLOOR_DBFS,
            colour=LOUDNESS_COLOUR,
        ),
    ]
    titles = ["Pace (words per minute)", "Pitch (Hz)", "Loudness (dBFS)"]
    return {
        "rows": rows,
        "monotone": v.monotone,
        "monotone_reason": v.monotone_reason,
        "warnings": list(v.warnings),
        "charts": list(zip(titles, charts, strict=True)),
    }


def _out_of_view(report: Report) -> list[Band]:
    f = report.face
    if f is None or not f.available:
        return []
    bands: list[Band] = []
    times = f.visible.t
    step = min((b - a for a, b in itertools.pairwise(times) if b > a), default=1.0)
    for t, value in zip(f.visible.t, f.visible.values, strict=False):
        if value is not None and value < 0.5:
            if bands and t - bands[-1].end <= step * 1.5:
                bands[-1] = Band(bands[-1].start, t + step / 2, OUT_OF_VIEW_COLOUR, "face out of view")
            else:
                bands.append(Band(max(t - step / 2, 0.0), t + step / 2, OUT_OF_VIEW_COLOUR, "face out of view"))
    return bands


def _face(report: Report) -> dict[str, Any]:
    f = report.face
    if f is None:
        return {"available": False, "reason": "Face analysis did not run for this report."}
    if not f.available:
        return {"available": False, "reason": f.reason or "No face could be analysed."}
    duration = report.duration_s
    hidden = _out_of_view(report)
    rows = [
        ("Face visible", fmt(f.visible_ratio, 0, "%", 100)),
        ("Eye contact (proxy)", fmt(f.eye_contact_ratio, 0, "%", 100)),
        ("Head turn / tilt", f"{fmt(f.head_yaw_deg, 0, '°')} / {fmt(f.head_pitch_deg, 0, '°')}"),
        ("Head movement", fmt(f.head_movement_deg_per_s, 1, "°/s")),
        ("Blinks", fmt(f.blink_rate_per_min, 0, "per min")),
        ("Smile", fmt(f.smile, 2)),
        ("Expressiveness", fmt(f.expressiveness, 2)),
        ("Frames analysed", f"{f.frames_analysed} at {f.sample_fps:.0f} per second"),
    ]
    if f.multiple_faces_ratio:
        rows.append(("More than one face", fmt(f.multiple_faces_ratio, 0, "%", 100)))
    charts = [
        ("Eye contact (% of each second, proxy)",
         line_chart(f.eye_contact, title="Eye contact", unit="%", duration_s=duration, bands=hidden, scale=100,
                    y_range=(0, 100), colour="#2b6cb0")),
        ("Smile (0-1, proxy)",
         line_chart(f.smile_series, title="Smile", duration_s=duration, bands=hidden, y_range=(0, 1),
                    colour="#d69e2e")),
    ]  # fmt: skip
    return {
        "available": True,
        "rows": rows,
        "au": [(name, f"{value:.2f}") for name, value in f.au_proxies.items()],
        "label": f.label,
        "notices": list(f.notices),
        "charts": charts,
        "hidden": bool(hidden),
    }


def _stress(report: Report) -> dict[str, Any]:
    s = report.stress
    if s is None:
        return {"available": False, "reason": "Stress cues were not analysed for this report."}
    if not s.available:
        return {"available": False, "reason": s.reason or "Not enough signal to look for stress spikes."}
    spikes = [
        {
            "when": f"{clock(x.start)}–{clock(x.end)}",
            "peak": f"{x.peak:.1f} at {clock(x.peak_t)}",
            "recovery": "not within the answer" if x.recovery_s is None else f"{x.recovery_s:.0f} s",
            "drivers": ", ".join(x.drivers),
        }
        for x in s.spikes
    ]
    bands = spike_bands(report)
    chart = line_chart(
        s.index, title="Stress index", unit="z", duration_s=report.duration_s, bands=bands, colour="#c53030", wide=True
    )
    return {
        "available": True,
        "cues": ", ".join(s.cues),
        "spikes": spikes,
        "steadiness": fmt(s.steadiness_sd, 2),
        "chart": chart,
    }


def report_context(report: Report) -> dict[str, Any]:
    """Everything ``report.html.j2`` shows, formatted."""
    s = report.scores
    m = report.metrics
    q = report.question
    coverage = None
    if m.coverage is not None:
        coverage = {
            "score": fmt(m.coverage.score, 0, "%", 100),
            "percent": max(0.0, min(100.0, m.coverage.score * 100)),
            "matched": [
                {"key_point": k.key_point, "sentence": k.sentence, "similarity": f"{k.similarity:.2f}",
                 "at": clock(k.start) if k.start is not None else ""}
                for k in m.coverage.matched
            ],
            "missed": [
                {"key_point": k.key_point, "sentence": k.sentence, "similarity": f"{k.similarity:.2f}"}
                for k in m.coverage.missed
            ],
            "threshold": f"{m.coverage.threshold:.2f}",
        }  # fmt: skip
    star = None
    if m.star is not None:
        hints = q.star_hints or {}
        star = {
            "parts": [
                {"name": part.title(), "present": p.present, "sentence": p.sentence,
                 "at": clock(p.start) if p.present and p.start is not None else "", "reason": p.reason,
                 "hint": hints.get(part, "")}
                for part, p in ((n, getattr(m.star, n)) for n in ("situation", "task", "action", "result"))
            ],
            "complete": m.star.complete,
            "flags": list(m.star.flags),
            "i_count": m.star.i_count,
            "we_count": m.star.we_count,
        }  # fmt: skip
    fillers = sorted(m.fillers.items(), key=lambda kv: (-kv[1], kv[0]))
    delivery_rows = [
        ("Pace", f"{m.wpm:.0f} words/min overall, {m.speaking_wpm:.0f} while speaking"),
        ("Words", f"{m.word_count} in {clock(report.duration_s)} ({m.speaking_time_s:.0f} s speaking)"),
        ("Fillers", f"{m.filler_count} ({m.filler_rate_per_100_words:.1f} per 100 words, "
                    f"{m.filler_rate_per_min:.1f} per minute)"),
        ("Hedges", f"{m.hedge_count}" + (" (" + ", ".join(f"{k} ×{v}" for k, v in m.hedges.items()) + ")"
                                         if m.hedges else "")),
        ("Pauses", f"{m.pauses.count} over {m.pauses.threshold_s:.1f} s ({m.pauses.per_minute:.1f} per minute), "
                   f"{m.pauses.long_count} over {m.pauses.long_threshold_s:.0f} s, longest {m.pauses.longest_s:.1f} s"),
        ("Time before the first word", f"{m.start_latency_s:.1f} s"),
    ]  # fmt: skip
    if m.repeats:
        delivery_rows.append(("Repeated", ", ".join(f"“{r.phrase}” ×{r.count} ({r.kind})" for r in m.repeats)))
    long_pauses = [
        {"at": clock(p.start), "duration": f"{p.duration_s:.1f} s", "after": p.after_word,
         "where": "mid-sentence" if p.mid_sentence else "between sentences"}
        for p in m.pauses.long
    ]  # fmt: skip
    unavailable = []
    if report.face is None or not report.face.available:
        reason = report.face.reason if report.face is not None else "not analysed"
        reason = reason.rstrip(".") or "no face found"
        unavailable.append(f"face cues: {reason[:1].lower()}{reason[1:]}")
    if m.star is None:
        unavailable.append("STAR structure: checked for behavioural questions only")
    if m.coverage is None:
        unavailable.append("content coverage: this question has no key points")
    return {
        "title": "Interview coaching report",
        "question": q.text,
        "question_kind": q.kind,
        "question_role": q.role,
        "key_points": list(q.key_points),
        "session_id": report.session_id,
        "date": when(report.created_at),
        "duration": clock(report.duration_s),
        "duration_s": f"{report.duration_s:.1f}",
        "time_budget": clock(q.time_budget_s) if q.time_budget_s else "",
        "language": report.language,
        "notices": [n for n in [report.language_notice, *report.notices] if n],
        "overall": {
            "value": fmt(s.overall, 0),
            "band": band(s.overall),
            "summary": (s.details.get("overall") or ScoreDetail(None)).summary,
        },
        "side_scores": [
            {"name": "Content", "value": fmt(s.content, 0), "band": band(s.content)},
            {"name": "Delivery", "value": fmt(s.delivery, 0), "band": band(s.delivery)},
        ],
        "scores": [_score_row(n, s.details.get(n), getattr(s, n)) for n in SCORE_NAMES],
        "content_detail": _score_row("content", s.details.get("content"), s.content),
        "tips": list(report.tips),
        "coverage": coverage,
        "star": star,
        "delivery_rows": delivery_rows,
        "filler_chart": bar_chart(fillers) if fillers else None,
        "long_pauses": long_pauses,
        "voice": _voice(report, pause_bands(report)),
        "face": _face(report),
        "stress": _stress(report),
        "tokens": transcript_tokens(report),
        "unavailable": unavailable,
    }


def footer_html(report: Report) -> str:
    """Chromium's footer template: session, date and "Page N of M" (filled in by Chromium)."""
    return (
        '<div style="font-family:DejaVu Sans,sans-serif;font-size:7.5px;color:#718096;width:100%;'
        'margin:0 13mm;display:flex;justify-content:space-between;">'
        f"<span>Interview Coach · session {escape(report.session_id)} · {escape(when(report.created_at))}</span>"
        '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>'
    )

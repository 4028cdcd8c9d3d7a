from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from coach_core.formatting import clock
from coach_core.reporting.pdf import PdfError, cached_pdf, chromium_executable
from coach_core.reporting.report_context import pitch_variation_text
from ui.archive_panel import archive_panel
from ui.common import fmt_score, get_store
from ui.common import settings as app_settings
from ui.interview_report import render_interview_report
from ui.report_view import replay_html, report_json, timeline_spec, transcript_html

st.title("📊 Dashboard")
store = get_store()
if store is None:
    st.stop()

linked = st.query_params.get("session")
if linked and store.session(linked) is None:  # someone else's, deleted, or mistyped: never its content
    st.error(f"Session {linked} not found.")  # also for a person with no sessions yet: a link asked for this one
    st.stop()

interview_id = st.query_params.get("interview") or st.session_state.get("interview_id")
if interview_id:
    interview = store.interview(interview_id)
    if interview is None:  # someone else's or deleted: never its content
        st.error(f"Interview {interview_id} not found.")
        st.session_state.pop("interview_id", None)
        st.stop()
    render_interview_report(store, interview)
    if st.button("Show single answers instead", key="dash-single"):
        st.session_state.pop("interview_id", None)
        st.query_params.clear()
        st.rerun()
    st.stop()

rows = store.sessions(limit=200)
if not rows:
    st.info("No sessions yet. Answer a question in the Arena first.")
    st.page_link("ui/arena.py", label="Go to the Arena", icon="🎤")
    st.stop()
if linked and linked not in [r.id for r in rows]:
    rows.insert(0, store.session(linked))  # older than the newest 200, but theirs
ids = [r.id for r in rows]
wanted = linked or st.session_state.get("session_id")
index = ids.index(wanted) if wanted in ids else 0
row = st.selectbox("Session", rows, index=index, key="dash_session",
                   format_func=lambda r: f"{r.created_at:%Y-%m-%d %H:%M} · {r.question_text[:70]} · {r.status}")  # fmt: skip
st.session_state["session_id"] = row.id
report = store.report(row.id)
if report is None:
    if row.status == "failed":
        st.error(f"Analysis failed: {row.error}")
        st.caption("The recording is kept; retry from the Arena or with the button below.")
        if st.button("Retry analysis"):
            from ui.common import jobs

            st.session_state["job_id"] = jobs().submit(row.id)
            st.switch_page("ui/arena.py")
    else:
        st.info(f"This session is {row.status}; its analysis is not ready yet.")
    st.stop()

for notice in report.notices:
    st.warning(notice)

# Scores -----------------------------------------------------------------------------------------
s = report.scores
cols = st.columns(6)
for col, name in zip(cols, ("overall", "content", "confidence", "clarity", "resilience", "engagement"), strict=True):
    col.metric(name.title(), fmt_score(getattr(s, name)))
with st.expander("What drove each score", expanded=False):
    for name in ("content", "confidence", "clarity", "resilience", "engagement", "overall"):
        detail = s.details.get(name)
        if detail is None:
            continue
        st.markdown(f"**{name.title()} — {fmt_score(detail.score)}**: {detail.summary}")
        lines = [
            f"- {i.name}: {'unavailable' if i.value is None else f'{i.value:.2f} {i.unit}'} → "
            f"{i.points:.1f} points (weight {i.weight:.0%}){' — ' + i.note if i.note else ''}"
            for i in detail.inputs
        ]
        if lines:
            st.markdown("\n".join(lines))
        if detail.unavailable:
            st.caption("Not measured: " + ", ".join(detail.unavailable))

st.subheader("Tips")
for tip in report.tips:
    st.markdown(f"- {tip}")

# Content ----------------------------------------------------------------------------------------
c1, c2 = st.columns(2)
with c1:
    st.subheader("Key points")
    cov = report.metrics.coverage
    if cov is None:
        st.caption("This question has no key points, so content coverage was not scored.")
    else:
        st.progress(cov.score, text=f"Coverage {cov.score:.0%}")
        # The person's own words go in a caption (plain markdown): never as HTML.
        for k in cov.matched:
            st.markdown(f"✅ **{k.key_point}**")
            st.caption(f"“{k.sentence}” (match {k.similarity:.2f})")
        for k in cov.missed:
            st.markdown(f"❌ **{k.key_point}**")
            st.caption(f"closest: “{k.sentence}” (match {k.similarity:.2f})")
with c2:
    star = report.metrics.star
    if star is not None:
        st.subheader("STAR structure")
        for part in ("situation", "task", "action", "result"):
            p = getattr(star, part)
            mark = "✅" if p.present else "❌"
            st.markdown(
                f"{mark} **{part.title()}** "
                + (f"at {clock(p.start or 0)}: “{p.sentence}” — {p.reason}" if p.present else f"— {p.reason}")
            )
        for flag in star.flags:
            st.warning(flag)
    m = report.metrics
    st.subheader("Delivery")
    st.markdown(
        f"- Pace: **{m.wpm:.0f} wpm** ({m.speaking_wpm:.0f} while speaking)\n"
        f"- Fillers: **{m.filler_count}** ({m.filler_rate_per_100_words:.1f} per 100 words) "
        + (", ".join(f"{k} ×{v}" for k, v in m.fillers.items()) if m.fillers else "")
        + f"\n- Hedges: **{m.hedge_count}**"
        + f"\n- Pauses: {m.pauses.count}, long (>1 s): **{m.pauses.long_count}**, longest {m.pauses.longest_s:.1f} s"
    )
    if report.voice is not None:
        v = report.voice
        st.markdown(f"- {pitch_variation_text(v)} ({v.monotone_reason})")
        if not v.reliable:
            st.caption(f"Voice measures less reliable here (confidence {v.confidence:.0%}): "
                       + "; ".join(v.confidence_reasons))  # fmt: skip
    if report.face is not None:
        f = report.face
        if f.available:
            st.markdown(
                f"- Eye contact (proxy): **{(f.eye_contact_ratio or 0):.0%}**, face visible {f.visible_ratio:.0%}"
            )
            st.caption(f.label)
        else:
            st.caption(f"Face: {f.reason}")

# Timeline, transcript, replay -----------------------------------------------------------------------
st.subheader("Timeline")
timeline = timeline_spec(report)
if timeline is None:
    st.caption("Nothing was measured over time for this answer.")
else:
    st.vega_lite_chart(spec=timeline, width="stretch")
    st.caption("Orange: long pauses. Red: stress spikes.")
st.subheader("Transcript")
st.html(transcript_html(report))
st.caption("Red: fillers · yellow: hedges · blue: long pauses.")

# The player carries the recording (several MB): build and send it only on request,
# not on every rerun of the page.
if st.toggle("▶ Replay with metrics in step", key=f"replay-{row.id}"):
    path = Path(row.recording_path or "")
    player = replay_html(report, path, bool(row.has_video)) if row.recording_path else None
    if player is None:
        st.caption("The recording is not available for replay here.")
    else:
        components.html(player, height=900, scrolling=True)

# Downloads and comparison -----------------------------------------------------------------------
d1, d2 = st.columns(2)
d1.download_button("Download JSON", report_json(report), file_name=f"interview-coach-{row.id}.json",
                   mime="application/json")  # fmt: skip
try:  # the PDF is printed on click (in a background thread) and cached per session in coach_core.reporting.pdf
    pdf_settings = app_settings()
    chromium_executable(pdf_settings)
    d2.download_button("Download PDF", lambda: cached_pdf(report, pdf_settings), file_name=f"interview-coach-{row.id}.pdf",
                       mime="application/pdf", on_click="ignore")  # fmt: skip
except PdfError as exc:
    d2.download_button("Download PDF", b"", disabled=True, key="pdf_unavailable")
    d2.error(f"PDF report unavailable: {exc}")
archive_panel(store, app_settings(), row.id)  # S3 archive status, links, retry, restore (only when configured)
previous = store.previous_attempt(row.id)
if previous:
    st.subheader("Compared with your previous attempt")
    before = store.report(previous)
    if before is not None:
        a, b = st.columns(2)
        a.caption(f"Previous ({before.created_at[:16].replace('T', ' ')})")
        b.caption("This attempt")
        for name in ("overall", "content", "confidence", "clarity", "resilience", "engagement"):
            old, new = getattr(before.scores, name), getattr(report.scores, name)
            a.metric(name.title(), fmt_score(old))
            delta = None if old is None or new is None else round(new - old, 1)
            b.metric(name.title(), fmt_score(new), delta=delta)

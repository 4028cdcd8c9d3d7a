from datetime import datetime, time, timedelta

import plotly.graph_objects as go
import streamlit as st

from coach_core import questions as bank
from coach_core.sessions import delete_session
from pages.common import SCORE_NAMES, fmt_score, get_store, open_session, settings

st.title("📈 History")
store = get_store()
if store is None:
    st.stop()

c1, c2, c3 = st.columns(3)
role = c1.selectbox("Role", ["any", *bank.ROLES])
kind = c2.selectbox("Kind", ["any", *bank.KINDS])
days = c3.selectbox(
    "Period", [7, 30, 90, 365, 0], index=4, format_func=lambda d: "all time" if d == 0 else f"last {d} days"
)
filters = {"role": None if role == "any" else role, "kind": None if kind == "any" else kind,
           "since": datetime.combine(datetime.now().date() - timedelta(days=days), time.min) if days else None}  # fmt: skip

rows = store.sessions(limit=500, **filters)
if not rows:
    st.info("No sessions match. Practise in the Arena and your progress shows up here.")
    st.stop()

summary = store.summary("overall", **filters)
m1, m2, m3 = st.columns(3)
m1.metric("Sessions analysed", summary["count"])
m2.metric("Average overall", fmt_score(summary["average"]))
m3.metric("Best overall", fmt_score(summary["best"]))

trend = store.trends(list(SCORE_NAMES), **filters)
if trend:
    fig = go.Figure()
    for name in SCORE_NAMES:
        points = [(t, v) for _, t, n, v in trend if n == name]
        if points:
            fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers", name=name)
    fig.update_layout(height=340, yaxis={"range": [0, 100], "title": "score"}, margin={"t": 20, "b": 20})
    times = sorted({t for _, t, _, _ in trend})
    if times[-1] - times[0] < timedelta(hours=1):  # one session: plotly would zoom to milliseconds
        fig.update_xaxes(range=[times[0] - timedelta(hours=12), times[-1] + timedelta(hours=12)])
    fig.update_xaxes(tickformat="%d %b\n%H:%M")
    st.plotly_chart(fig, use_container_width=True)

st.subheader("Sessions")
for r in rows:
    a, b, c, d = st.columns([3, 6, 1, 1])
    a.write(f"{r.created_at:%Y-%m-%d %H:%M} · {r.status}")
    b.write(f"{fmt_score(r.overall)} · {r.question_text}")
    if c.button("Open", key=f"open-{r.id}"):
        open_session(r.id)
    if d.button("🗑", key=f"del-{r.id}", help="Delete this session and its files"):
        delete_session(store, settings(), r.id)
        st.rerun()

import streamlit as st

from ui.common import fmt_score, get_store

st.title("🎤 Interview Coach")
st.write(
    "Practise interview answers out loud and get honest feedback in seconds — transcript, content "
    "coverage, STAR structure, pace, fillers, voice and (optional) face cues. Everything runs on this machine."
)
store = get_store()
if store is not None:
    summary = store.summary("overall")
    c1, c2, c3 = st.columns(3)
    c1.metric("Sessions analysed", summary["count"])
    c2.metric("Average overall", fmt_score(summary["average"]))
    c3.metric("Best overall", fmt_score(summary["best"]))
st.page_link("ui/arena.py", label="Start practising", icon="🎤")
st.page_link("ui/history.py", label="See your progress", icon="📈")
st.caption("Face cues are blendshape-based proxies (MediaPipe), not emotion detection. The camera is optional.")

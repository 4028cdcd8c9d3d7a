import streamlit as st

from coach_core import questions as bank
from ui.common import get_store

st.title("📚 Question bank")
store = get_store()
custom = store.custom_questions() if store is not None else []
c1, c2 = st.columns(2)
role = c1.selectbox("Role", ["any", *bank.ROLES])
kind = c2.selectbox("Kind", ["any", *bank.KINDS])
items = bank.filter_questions(list(bank.bank()) + custom, role=None if role == "any" else role,
                              kind=None if kind == "any" else kind)  # fmt: skip
st.caption(f"{len(items)} questions")
for q in items:
    with st.expander(f"{q.text}  ·  {q.role} · {q.kind}"):
        st.markdown("\n".join(f"- {p}" for p in q.key_points) or "_no key points_")
        if q.star_hints:
            st.caption(" · ".join(f"{k}: {v}" for k, v in q.star_hints.items()))
        if q.topic == "my questions" and store is not None and st.button("Delete", key=f"delq-{q.id}"):
            store.delete_custom_question(q.id)
            st.rerun()

if store is not None:
    st.subheader("Add your own question")
    with st.form("add_question", clear_on_submit=True):
        text = st.text_area("Question")
        points = st.text_area("Key points (one per line)")
        kind_new = st.radio("Kind", bank.KINDS, horizontal=True)
        budget = st.number_input("Time budget (seconds)", min_value=int(bank.MIN_BUDGET_S),
                                 max_value=int(bank.MAX_BUDGET_S), value=120, step=15)  # fmt: skip
        if st.form_submit_button("Add"):
            try:
                question = bank.custom_question(text, points.splitlines(), kind=kind_new, time_budget_s=budget)
                saved = store.add_custom_question(question)
                st.success(f"Added ({saved.id}).")
            except ValueError as exc:
                st.error(str(exc))

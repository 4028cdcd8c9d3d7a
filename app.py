"""Interview Coach — Streamlit entry point and navigation."""

import streamlit as st

from pages.common import start_warm_up

st.set_page_config(page_title="Interview Coach", page_icon="🎤", layout="wide")
start_warm_up()  # models load in the background; the first page renders at once

pages = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/arena.py", title="Arena", icon="🎤"),
    st.Page("pages/dashboard.py", title="Dashboard", icon="📊"),
    st.Page("pages/history.py", title="History", icon="📈"),
    st.Page("pages/questions.py", title="Question bank", icon="📚"),
]
st.navigation(pages).run()

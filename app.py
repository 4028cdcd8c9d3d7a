"""Interview Coach — Streamlit entry point and navigation."""

import streamlit as st

from ui.auth import require_login
from ui.common import start_warm_up

st.set_page_config(page_title="Interview Coach", page_icon="🎤", layout="wide")
require_login()  # with login configured, a visitor who is not logged in sees only the login page
start_warm_up()  # models load in the background; the first page renders at once

pages = [
    st.Page("ui/home.py", title="Home", icon="🏠", default=True),
    st.Page("ui/arena.py", title="Arena", icon="🎤"),
    st.Page("ui/interview.py", title="Mock interview", icon="🧑‍💼"),
    st.Page("ui/dashboard.py", title="Dashboard", icon="📊"),
    st.Page("ui/history.py", title="History", icon="📈"),
    st.Page("ui/questions.py", title="Question bank", icon="📚"),
]
st.navigation(pages).run()

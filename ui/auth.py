"""Who is using the app: the local user on a laptop, or a logged-in person on a shared deployment.

- Nothing configured: one implicit local user, no login (``LOCAL_USER``).
- ``[auth]`` in ``.streamlit/secrets.toml``: Streamlit's own OpenID Connect login (``st.login``); a
  visitor who is not logged in sees only the login page. The person is their e-mail address.
- ``COACH_TRUSTED_USER_HEADER``: the identity an authenticating reverse proxy puts in that header.

Every page reads data through ``ui.common.get_store()``, which is limited to this person's rows.
"""

from __future__ import annotations

import streamlit as st

from coach_core.storage.store import LOCAL_USER
from ui.common import settings


def login_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def current_user() -> str:
    """The person this browser session acts for (stops the script with a message when there is none)."""
    if login_configured():
        if not st.user.is_logged_in:
            st.stop()  # require_login() shows the login page first; never reach data without a login
        email = st.user.get("email") or st.user.get("sub")
        if not email:
            st.error("Your login did not give an e-mail address; ask the administrator to add the 'email' scope.")
            st.stop()
        return str(email).strip().lower()
    header = settings().trusted_user_header
    if header:
        value = st.context.headers.get(header)
        if not value or not value.strip():
            st.error("No identity reached the app (it must be opened through the login proxy).")
            st.stop()
        return value.strip().lower()
    return LOCAL_USER


def require_login() -> None:
    """The login page for a visitor who is not logged in; the person's name and a logout otherwise."""
    if not login_configured():
        if settings().trusted_user_header:
            st.sidebar.caption(f"Signed in as {current_user()}")
        elif settings().require_login:
            st.error("This deployment requires login (COACH_REQUIRE_LOGIN), but none is configured: add an [auth] "
                     "section to .streamlit/secrets.toml (README, 'Accounts'), or set COACH_TRUSTED_USER_HEADER "
                     "behind an authenticating proxy.")  # fmt: skip
            st.stop()
        return
    if not st.user.is_logged_in:
        st.title("🎤 Interview Coach")
        st.write("Practise interview answers out loud and get honest feedback. Log in to see your own sessions.")
        if st.button("Log in", type="primary"):
            st.login()
        st.stop()
    name = st.user.get("name") or st.user.get("email")
    with st.sidebar:
        st.caption(f"Signed in as **{name}** ({st.user.get('email')})")
        if st.button("Log out"):
            st.logout()

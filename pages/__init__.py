"""The app's pages. ``app.py`` lists them with ``st.navigation``.

Streamlit still treats a folder named ``pages/`` next to the entry script as a v1 multipage app
until ``st.navigation`` has run once in the process. If the very first request after the server
starts is a deep link (``/arena``), Streamlit runs ``pages/arena.py`` on its own, ``app.py`` never
runs, and the whole server stays in v1 mode: every file here (``common``, ``recorder`` …) is listed
as a page. The first page that imports this package in that state switches v1 off and reruns, so
``app.py`` runs and resolves the same URL through ``st.navigation``.
"""


def _leave_pages_folder_mode() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # a Streamlit without these internals: nothing to fix
        return
    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        import streamlit as st

        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_pages_folder_mode()

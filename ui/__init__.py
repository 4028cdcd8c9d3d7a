"""The app's pages and their shared widgets; ``app.py`` lists the pages with ``st.navigation``.

The folder is not named ``pages/``: next to the entry script that name puts Streamlit in its old
folder-based multipage mode, where every file here would be listed as a page.
"""

"""Interview Coach core: every piece of logic, in layers (docs/architecture.md); no UI, no Streamlit."""

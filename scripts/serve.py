"""Start the app: ``streamlit run app.py [options]``, less one start-up cost.

Every ``streamlit run`` of Streamlit 1.67 looks through all installed distributions for v2 components
(``streamlit.components.v2.manifest_scanner``). Its pre-filter asks each distribution for its name,
summary and requirements through ``importlib.metadata``, which re-reads and parses the whole METADATA
file (long description and changelog included) on every access: four parses of each of the ~150
packages here, 0.38-0.42 s of the ~1.3 s before the server answers, to find no component. The same
filter on each METADATA's headers, parsed once, takes ~0.03 s and gives the same answer for every
installed distribution (tests/test_serve.py). If Streamlit renames or drops the function, nothing is
patched and the app starts exactly as ``streamlit run`` would.

Usage: ``python scripts/serve.py [streamlit run options]`` (``bash scripts/setup.sh app`` calls it).
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import sys
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = ("streamlit-", "streamlit_", "st-", "st_")


def metadata_headers(dist: importlib.metadata.Distribution) -> Message:
    """A distribution's core metadata headers, without parsing the description that follows them."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    return email.parser.Parser().parsestr(head, headersonly=True)


def likely_component_package(dist: importlib.metadata.Distribution) -> bool:
    """Streamlit's ``_is_likely_streamlit_component_package``, with the metadata parsed once."""
    meta = metadata_headers(dist)
    name = (meta["Name"] or "").lower()
    if not name:
        return False
    summary = (meta["Summary"] or "").lower()
    requires = meta.get_all("Requires-Dist") or []
    return (
        "streamlit" in name
        or "streamlit" in summary
        or any("streamlit" in r.lower() for r in requires)
        or name.startswith(PREFIXES)
    )


def patch_component_scan() -> bool:
    """Swap in the single-parse filter; False (and nothing changed) when Streamlit has no such function."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:
        return False
    if not callable(getattr(manifest_scanner, "_is_likely_streamlit_component_package", None)):
        return False
    manifest_scanner._is_likely_streamlit_component_package = likely_component_package
    return True


def main(argv: list[str]) -> None:
    patch_component_scan()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])

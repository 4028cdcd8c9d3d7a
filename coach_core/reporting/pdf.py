"""The coaching report as an A4 PDF: a Jinja2 template printed by headless Chromium.

One Chromium serves every report in the process. Playwright's sync API is bound to the thread that
started it, so a :class:`ChromiumRenderer` owns the browser on one worker thread and every caller
(CLI, dashboard sessions, job workers) hands its page to that thread through a queue. The browser is
launched on first use, relaunched if it dies, and closed at exit.

The page is self-contained: user text is escaped by Jinja's autoescape, charts are inline SVG,
fonts are the system's, JavaScript is off, and every request the page would make is blocked and
counted (``ChromiumRenderer.blocked_requests``), so nothing in a report reaches the network.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import queue
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from coach_core.config import Settings, load_settings
from coach_core.reporting.report_context import footer_html, report_context
from coach_core.schema import Report

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "report.html.j2"
# Flags from STACK.md: no sandbox/GPU/shm in containers, and no background traffic of Chromium's own.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RENDER_TIMEOUT_S = 180.0  # generous: a loaded 2-core machine, and a cold first launch
PAGE_TIMEOUT_MS = 60_000
MARGINS = {"top": "14mm", "bottom": "16mm", "left": "13mm", "right": "13mm"}
CACHE_SIZE = 16


class PdfError(RuntimeError):
    """The PDF could not be made; the message is one line that says why."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("BrowserType.launch: ", "Page.pdf: ", "Page.set_content: "):
        text = text.removeprefix(prefix)
    return (text.splitlines() or [type(exc).__name__])[0].strip()[:300]


def chromium_executable(settings: Settings) -> str:
    """The Chromium binary from settings, checked to exist; :class:`PdfError` if it does not."""
    path = settings.chromium_path
    found = shutil.which(path) if os.sep not in path else (path if os.access(path, os.X_OK) else None)
    if not found or not Path(found).is_file():
        raise PdfError(
            f"Chromium not found at {path}: install the Debian 'chromium' package or set COACH_CHROMIUM_PATH."
        )
    return found


def _connected(browser: object) -> bool:
    try:
        return browser is not None and bool(browser.is_connected())  # type: ignore[attr-defined]
    except Exception:
        return False


def _quietly(action: object) -> None:
    try:
        if callable(action):
            action()
    except Exception:
        pass


@dataclass
class _Job:
    html: str
    footer: str
    done: threading.Event = field(default_factory=threading.Event)
    pdf: bytes | None = None
    error: PdfError | None = None


class ChromiumRenderer:
    """One headless Chromium on one dedicated thread; :meth:`render` is safe to call from any thread."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.launches = 0
        self.renders = 0
        self.blocked_requests: list[str] = []
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def render(self, html: str, footer: str = "", timeout_s: float = RENDER_TIMEOUT_S) -> bytes:
        """Print ``html`` to an A4 PDF (``footer``: Chromium footer template) and return its bytes."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pdf-chromium", daemon=True)
                self._thread.start()
            job = _Job(html, footer)
            self._jobs.put(job)
        if not job.done.wait(timeout_s):
            raise PdfError(f"PDF rendering took longer than {timeout_s:.0f} s; Chromium may be stuck.")
        if job.error is not None:
            raise job.error
        assert job.pdf is not None
        return job.pdf

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the worker thread and the browser (pending jobs are finished first)."""
        with self._lock:
            thread = self._thread
            self._thread = None
            if thread is None or not thread.is_alive():
                return
            self._jobs.put(None)
        thread.join(timeout_s)

    # Everything below runs on the worker thread only.
    def _run(self) -> None:
        playwright = None
        browser = None
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                try:
                    if playwright is None:
                        from playwright.sync_api import sync_playwright

                        playwright = sync_playwright().start()
                    for attempt in (1, 2):
                        if not _connected(browser):
                            _quietly(getattr(browser, "close", None))
                            browser = self._launch(playwright)
                        try:
                            job.pdf = self._print(browser, job)
                            break
                        except Exception as exc:
                            # A browser that died since the last job may only be noticed now: once
                            # more with a fresh one; any other failure is the page's and is final.
                            if attempt == 2 or (_connected(browser) and "has been closed" not in str(exc)):
                                raise
                            _quietly(getattr(browser, "close", None))
                            browser = None
                    self.renders += 1
                except PdfError as exc:
                    job.error = exc
                except Exception as exc:
                    job.error = PdfError(f"PDF rendering failed: {_first_line(exc)}")
                finally:
                    job.done.set()
                if job.error is not None and not _connected(browser):
                    # Chromium or Playwright's driver died: start both afresh on the next job.
                    _quietly(getattr(browser, "close", None))
                    _quietly(getattr(playwright, "stop", None))
                    playwright = browser = None
        finally:
            _quietly(getattr(browser, "close", None))
            _quietly(getattr(playwright, "stop", None))

    def _launch(self, playwright: object) -> object:
        self.launches += 1
        try:
            return playwright.chromium.launch(  # type: ignore[attr-defined]
                executable_path=self.executable, headless=True, args=LAUNCH_ARGS, timeout=PAGE_TIMEOUT_MS
            )
        except Exception as exc:
            raise PdfError(f"Chromium at {self.executable} could not start: {_first_line(exc)}") from None

    def _print(self, browser: object, job: _Job) -> bytes:
        context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
        try:

            def block(route: object) -> None:
                self.blocked_requests.append(route.request.url)  # type: ignore[attr-defined]
                route.abort()  # type: ignore[attr-defined]

            context.route("**/*", block)
            page = context.new_page()
            page.set_content(job.html, wait_until="load", timeout=PAGE_TIMEOUT_MS)
            return page.pdf(
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=job.footer or "<span></span>",
                margin=MARGINS,
            )
        finally:
            context.close()


_renderers: dict[str, ChromiumRenderer] = {}
_renderers_lock = threading.Lock()


def get_renderer(settings: Settings | None = None) -> ChromiumRenderer:
    """The process's renderer for the configured Chromium (created once, shared by all threads)."""
    executable = chromium_executable(settings or load_settings())
    with _renderers_lock:
        renderer = _renderers.get(executable)
        if renderer is None:
            renderer = _renderers[executable] = ChromiumRenderer(executable)
        return renderer


@atexit.register
def close_renderers() -> None:
    """Close every browser this process started (also run at interpreter exit)."""
    with _renderers_lock:
        renderers = list(_renderers.values())
        _renderers.clear()
    for renderer in renderers:
        renderer.close()


_environment: Environment | None = None


def report_html(report: Report) -> str:
    """The report as one self-contained HTML page (no scripts, no external resources)."""
    global _environment
    if _environment is None:
        _environment = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined, trim_blocks=True,
            lstrip_blocks=True,
        )  # fmt: skip
    return _environment.get_template(TEMPLATE_NAME).render(**report_context(report))


def render_pdf(report: Report, out: Path | None = None, settings: Settings | None = None) -> bytes:
    """Render ``report`` to an A4 PDF with the shared Chromium; also write it to ``out`` if given.

    Raises :class:`PdfError` (one-line message) if Chromium is missing or rendering fails.
    """
    settings = settings or load_settings()
    renderer = get_renderer(settings)
    pdf = renderer.render(report_html(report), footer_html(report))
    if out is not None:
        _write(Path(out), pdf)
    return pdf


def write_session_pdf(settings: Settings, report: Report) -> Path:
    """Render the session's PDF to ``settings.reports_dir / f"{session_id}.pdf"`` and return that path."""
    path = settings.reports_dir / f"{report.session_id}.pdf"
    _write(path, render_pdf(report, settings=settings), make_parents=True)
    return path


def _write(path: Path, pdf: bytes, make_parents: bool = False) -> None:
    try:
        if make_parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
        temporary.write_bytes(pdf)
        temporary.replace(path)  # readers never see half a file
    except OSError as exc:
        raise PdfError(f"Cannot write the PDF to {path}: {exc.strerror or exc}") from None


_cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_cache_lock = threading.Lock()


def cached_pdf(report: Report, settings: Settings | None = None) -> bytes:
    """The report's PDF, rendered once per session and report content (the dashboard's download)."""
    text = json.dumps(report.to_dict(), sort_keys=True, ensure_ascii=False)
    key = (report.session_id, hashlib.sha256(text.encode()).hexdigest())
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    pdf = render_pdf(report, settings=settings)
    with _cache_lock:
        _cache[key] = pdf
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return pdf

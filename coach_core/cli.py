"""Command line: ``python -m coach_core analyze|report|questions|history|show|delete|export|delete-all|archive|…``.

Each command acts for one person (``--user EMAIL``; default: the local user); another person's session is "not found".
Progress goes to stderr; exit code 0 on success, 2 with a one-line reason on bad input (a session not found, a deletion
not confirmed), 3 when the database is unavailable, 4 when the S3 archive is unreachable or refuses, 5 when the PDF
cannot be rendered (Chromium missing or failing), 1 on an unexpected error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coach_core import questions as question_bank
from coach_core.config import Settings, load_settings
from coach_core.media.decode import MediaError
from coach_core.reporting.pdf import PdfError
from coach_core.schema import Question, Report
from coach_core.storage.store import LOCAL_USER, SessionRow, Store, StoreError

if TYPE_CHECKING:
    from coach_core.analysis.pipeline import ProgressFn  # the pipeline is imported by the commands that analyse

EXIT_BAD_INPUT = 2
EXIT_STORE = 3
EXIT_ARCHIVE = 4  # the S3 archive is unreachable or refused (local data is untouched)
EXIT_PDF = 5  # the PDF could not be rendered (Chromium missing or failing); the analysis is kept


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _progress() -> ProgressFn:
    last = {"step": ""}

    def report(step: str, fraction: float) -> None:
        if step != last["step"]:
            last["step"] = step
            print(f"[{fraction:4.0%}] {step}…", file=sys.stderr, flush=True)

    return report


def _user(args: argparse.Namespace) -> str:
    """The person a command acts for, written as the app writes it (an e-mail in lower case)."""
    user = str(getattr(args, "user", None) or LOCAL_USER).strip().lower()
    if not user:
        raise CliError("--user needs the person's e-mail address.")
    return user


def _open_store(settings: Settings, args: argparse.Namespace) -> Store:
    """The database as the command's person sees it: only their sessions, questions, jobs and archive."""
    user = _user(args)
    try:
        return Store(settings.database).as_user(user)
    except StoreError as exc:
        raise CliError(str(exc), EXIT_STORE) from exc


def _own_session(store: Store, session_id: str) -> SessionRow:
    row = store.session(session_id)
    if row is None:  # the same words whether it is someone else's or does not exist: nothing is told about it
        raise CliError(f"Session {session_id} not found")
    return row


def _confirm(question: str, yes: bool) -> None:
    """Go on only with --yes, or when the person answers yes on a terminal."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError("Nothing deleted: add --yes to confirm (there is no terminal to ask).")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:  # Ctrl-D
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise CliError("Nothing deleted.")


def _resolve_question(args: argparse.Namespace, settings: Settings) -> Question:
    if args.question:
        found = question_bank.get(args.question)
        if found is None and settings.database.exists():
            store = _open_store(settings, args)
            try:
                found = next((q for q in store.custom_questions() if q.id == args.question), None)
            finally:
                store.close()
        if found is None:
            raise CliError(f"No question with id '{args.question}' (see: python -m coach_core questions).")
        return found
    try:
        return question_bank.custom_question(args.question_text, args.key_point or [], kind=args.kind)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _write_json(report: Report | dict, out: str) -> None:
    data = report.to_dict() if isinstance(report, Report) else report
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out == "-":
        print(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
        print(f"JSON report written to {out}", file=sys.stderr)


def _print_summary(report: Report) -> None:
    s = report.scores
    parts = [f"overall {s.overall:.0f}", f"content {'-' if s.content is None else f'{s.content:.0f}'}",
             f"delivery {s.delivery:.0f}"]  # fmt: skip
    for name in ("confidence", "clarity", "resilience", "engagement"):
        value = getattr(s, name)
        parts.append(f"{name} {'n/a' if value is None else f'{value:.0f}'}")
    m = report.metrics
    print(f"Session {report.session_id}: " + ", ".join(parts))
    print(f"{report.duration_s:.1f} s, {m.word_count} words, {m.wpm:.0f} wpm, {m.filler_count} fillers, "
          f"{m.pauses.long_count} long pauses")  # fmt: skip
    for notice in report.notices:
        print(f"Note: {notice}")
    for tip in report.tips:
        print(f"- {tip}")


def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    from coach_core.analysis.pipeline import analyse
    from coach_core.media.decode import probe
    from coach_core.sessions.lifecycle import analyse_session, delete_session, save_recording

    path = Path(args.path)
    if not path.exists():
        raise CliError(f"File not found: {path}")
    question = _resolve_question(args, settings)
    if args.pdf == "-":
        raise CliError("analyze prints its summary on stdout: give --pdf a file name (or use 'report --pdf -').")
    if args.pdf:
        _check_pdf_target(args.pdf, settings)  # before a long analysis, not after it
    probe(path, max_duration_s=settings.max_duration_s)  # refuse broken files before storing anything
    if args.no_save:
        report = analyse(path, question, settings=settings, progress=_progress())
    else:
        store = _open_store(settings, args)
        try:
            session_id = save_recording(store, settings, path, question, original_name=path.name)
            print(f"Recording saved as session {session_id}", file=sys.stderr)
            try:
                report = analyse_session(store, settings, session_id, progress=_progress())
            except MediaError:
                # The file was refused: the user still has it, so no half-made session is kept.
                delete_session(store, settings, session_id)
                raise
        finally:
            store.close()
    if args.json:
        _write_json(report, args.json)
    _print_summary(report)
    if args.pdf:
        _write_pdf(report, args.pdf, settings)
    return 0


def _check_pdf_target(out: str, settings: Settings) -> None:
    from coach_core.reporting.pdf import chromium_executable

    if out != "-" and not Path(out).resolve().parent.is_dir():
        raise CliError(f"Directory not found for the PDF: {Path(out).parent}")
    try:
        chromium_executable(settings)
    except PdfError as exc:
        raise CliError(str(exc), EXIT_PDF) from None


def _write_pdf(report: Report, out: str, settings: Settings) -> None:
    from coach_core.reporting.pdf import render_pdf

    if out == "-":
        sys.stdout.buffer.write(render_pdf(report, settings=settings))
        sys.stdout.flush()
        return
    render_pdf(report, out=Path(out), settings=settings)
    print(f"PDF report written to {out}", file=sys.stderr)


def _analysed_report(settings: Settings, args: argparse.Namespace, purpose: str = "") -> dict:
    """The stored report of the person's session ``args.session_id``; a CliError saying why when there is none."""
    session_id = args.session_id
    store = _open_store(settings, args)
    try:
        row = _own_session(store, session_id)
        data = store.report_dict(session_id)
    finally:
        store.close()
    if data is None:
        reason = f": {row.error}" if row.error else ""
        what = f"no analysis {purpose}".rstrip()
        raise CliError(f"Session {session_id} has {what} (status {row.status}{reason}).")
    return data


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from coach_core.reporting.pdf import write_session_pdf

    report = Report.from_dict(_analysed_report(settings, args, "to report"))  # not the person's: nothing made
    if args.pdf:
        _check_pdf_target(args.pdf, settings)
    if args.pdf:
        _write_pdf(report, args.pdf, settings)
    else:
        print(f"PDF report written to {write_session_pdf(settings, report)}", file=sys.stderr)
    return 0


def cmd_questions(args: argparse.Namespace, settings: Settings) -> int:
    items = list(question_bank.bank())
    if settings.database.exists():
        store = _open_store(settings, args)
        try:
            items += store.custom_questions()
        finally:
            store.close()
    kind = question_bank.normalise_kind(args.kind) if args.kind else None
    for q in question_bank.filter_questions(items, role=args.role, kind=kind):
        print(f"{q.id}\t{q.role}\t{q.kind}\t{q.text}")
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    store = _open_store(settings, args)
    try:
        rows = store.sessions(limit=args.limit)
    finally:
        store.close()
    if not rows:
        print("No sessions yet.")
    for r in rows:
        score = "  -" if r.overall is None else f"{r.overall:3.0f}"
        print(f"{r.id}\t{r.created_at:%Y-%m-%d %H:%M}\t{r.status}\t{score}\t{r.question_text[:70]}")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    data = _analysed_report(settings, args)
    if args.json:
        _write_json(data, args.json)
    _print_summary(Report.from_dict(data))
    return 0


def cmd_archive(args: argparse.Namespace, settings: Settings) -> int:
    from coach_core.sessions import archive

    try:
        archive.require_archive(settings)
    except archive.ArchiveError as exc:
        raise CliError(str(exc)) from None
    store = _open_store(settings, args)
    try:
        if args.link:
            _own_session(store, args.link)
            print(archive.session_link(store, settings, args.link, args.kind, args.expires))
            return 0
        if args.retry:
            results = archive.retry_pending(store, settings)
            if not results:
                print("Nothing to retry: no upload failed or was interrupted.")
        elif args.all:
            results = archive.archive_all(store, settings)
        elif args.session_id:
            _own_session(store, args.session_id)
            results = [archive.archive_session(store, settings, args.session_id)]
        else:
            raise CliError("Give a SESSION_ID, --retry, --all or --link SESSION_ID.")
    except archive.ArchiveError as exc:
        raise CliError(str(exc), EXIT_ARCHIVE) from None
    finally:
        store.close()
    for result in results:
        print(result.summary())
    return 0 if all(r.ok for r in results) else EXIT_ARCHIVE


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from coach_core.sessions import archive

    try:
        archive.require_archive(settings)
    except archive.ArchiveError as exc:
        raise CliError(str(exc)) from None
    store = _open_store(settings, args)
    try:
        _own_session(store, args.session_id)
        result = archive.restore_session(store, settings, args.session_id)
    except archive.ArchiveError as exc:
        raise CliError(str(exc), EXIT_ARCHIVE) from None
    finally:
        store.close()
    print(result.summary())
    return 0 if "recording" not in result.unavailable else EXIT_ARCHIVE


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    """Delete one of the person's sessions, after saying what goes."""
    from coach_core.sessions.lifecycle import delete_session
    from coach_core.sessions.my_data import session_files

    store = _open_store(settings, args)
    try:
        row = _own_session(store, args.session_id)
        files = session_files(store, settings, args.session_id)
        print(f"Session {row.id} ({row.created_at:%Y-%m-%d %H:%M}, {row.status}): {row.question_text[:70]}")
        print("Deleting it removes " + (", ".join(files) if files else "its entry (it has no files)") + ".")
        _confirm("Delete this session?", args.yes)
        result = delete_session(store, settings, args.session_id)
    finally:
        store.close()
    print(f"Session {args.session_id} deleted.")
    if result.archive_error:
        print(f"error: {result.archive_error}", file=sys.stderr)
        return EXIT_ARCHIVE
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write a zip of all the person's data."""
    from coach_core.sessions.my_data import export_all

    out = Path(args.out)
    if not out.resolve().parent.is_dir():
        raise CliError(f"Directory not found for the export: {out.parent}")
    store = _open_store(settings, args)
    try:
        done = export_all(store, settings, out)
    finally:
        store.close()
    print(f"Exported {done.describe()} to {out} ({out.stat().st_size / 1e6:.1f} MB).")
    return 0


def cmd_delete_all(args: argparse.Namespace, settings: Settings) -> int:
    """Delete all the person's data (also their archived copies in S3), after showing the counts."""
    from coach_core.sessions.my_data import delete_all, inventory

    store = _open_store(settings, args)
    try:
        found = inventory(store, settings)
        print(f"Your data ({_user(args)}): {found.describe()}.")
        if found.empty:
            print("Nothing to delete.")
            return 0
        _confirm("Delete all of it? This cannot be undone.", args.yes)
        gone = delete_all(store, settings)
    finally:
        store.close()
    print(f"Deleted {gone.describe()}.")
    for error in gone.archive_errors:
        print(f"error: {error}", file=sys.stderr)
    return EXIT_ARCHIVE if gone.archive_errors else 0


EXIT_QUEUE = 6  # the job queue (Redis) cannot be reached


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the analysis queue: load the models once, then analyse jobs until stopped."""
    import logging

    from coach_core.jobs.rq_worker import WorkerError, run_worker

    url = args.url or settings.queue_url
    if not url:
        raise CliError("No job queue: pass --url redis://HOST:6379/0 or set COACH_QUEUE_URL.")
    if not os.environ.get("MALLOC_ARENA_MAX") and sys.argv[0].endswith("__main__.py"):  # run as a program
        # glibc reads this at process start only: start again with it (docs/architecture.md, "Memory").
        os.execve(sys.executable, [sys.executable, "-m", "coach_core", *sys.argv[1:]],
                  {**os.environ, "MALLOC_ARENA_MAX": "2"})  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        run_worker(url, settings, burst=args.burst, name=args.name, heartbeat_s=args.heartbeat)
    except WorkerError as exc:
        raise CliError(str(exc), EXIT_QUEUE) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m coach_core", description="Interview Coach, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    person = argparse.ArgumentParser(add_help=False)
    person.add_argument("--user", metavar="EMAIL", default=LOCAL_USER,
                        help="act for this person (the e-mail they log in with; default: the local user)")  # fmt: skip
    p = sub.add_parser("analyze", help="analyse a recorded answer", parents=[person])
    p.add_argument("path")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--question", help="question id from the bank (see 'questions')")
    group.add_argument("--question-text", help="your own question")
    p.add_argument("--key-point", action="append", help="a key point the answer should cover (repeatable)")
    p.add_argument("--kind", default="technical", help="technical or behavioural (with --question-text)")
    p.add_argument("--json", metavar="OUT", help="write the JSON report to OUT ('-' for stdout)")
    p.add_argument("--no-save", action="store_true", help="do not store the session")
    p.add_argument("--pdf", metavar="OUT", help="also write the PDF coaching report to OUT")
    p.set_defaults(func=cmd_analyze)
    p = sub.add_parser("report", help="write a session's PDF coaching report", parents=[person])
    p.add_argument("session_id")
    p.add_argument("--pdf", metavar="OUT", help="output file ('-' for stdout; default: reports/ in the data dir)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("questions", help="list questions", parents=[person])
    p.add_argument("--role", choices=question_bank.ROLES)
    p.add_argument("--kind")
    p.set_defaults(func=cmd_questions)
    p = sub.add_parser("history", help="list past sessions", parents=[person])
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_history)
    p = sub.add_parser("show", help="show a session's analysis", parents=[person])
    p.add_argument("session_id")
    p.add_argument("--json", metavar="OUT")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("delete", help="delete a session and its files, also in S3", parents=[person])
    p.add_argument("session_id")
    p.add_argument("--yes", action="store_true", help="do not ask (needed when there is no terminal)")
    p.set_defaults(func=cmd_delete)
    p = sub.add_parser("export", help="all your data as a zip (reports, PDFs, recordings)", parents=[person])
    p.add_argument("--out", required=True, metavar="FILE.zip")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("delete-all", help="delete all your data, also the archived copies in S3", parents=[person])
    p.add_argument("--yes", action="store_true", help="do not ask (needed when there is no terminal)")
    p.set_defaults(func=cmd_delete_all)
    p = sub.add_parser("archive", help="upload sessions to S3, retry, or print a download link", parents=[person])
    p.add_argument("session_id", nargs="?", help="the session to upload")
    p.add_argument("--retry", action="store_true", help="upload again what failed or was interrupted")
    p.add_argument("--all", action="store_true", help="upload every analysed session (archived files are skipped)")
    p.add_argument("--link", metavar="SESSION_ID", help="print a presigned download link for this session")
    p.add_argument("--kind", choices=("recording", "report", "pdf"), default="report", help="file for --link")
    p.add_argument("--expires", type=int, metavar="S", help="link lifetime in seconds (default: the setting)")
    p.set_defaults(func=cmd_archive)
    p = sub.add_parser("restore", help="download a session's missing files from the S3 archive", parents=[person])
    p.add_argument("session_id")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("worker", help="analyse jobs from the queue (COACH_QUEUE_URL) on this machine")
    p.add_argument("--url", help="Redis URL of the queue (default: COACH_QUEUE_URL)")
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    p.add_argument("--name", help="worker name shown in RQ (default: host and pid)")
    p.add_argument("--heartbeat", type=float, metavar="S", help="seconds between heartbeats (COACH_WORKER_HEARTBEAT_S)")
    p.set_defaults(func=cmd_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.func(args, settings))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except (MediaError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PdfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PDF
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130

"""The dashboard's archive box: each file's S3 status, retry, presigned download links, restore."""

from __future__ import annotations

import streamlit as st

from coach_core.config import Settings
from coach_core.storage.rows import FILE_KINDS
from coach_core.storage.store import LOCAL_USER, Store

LABELS = {"recording": "Recording", "report": "Report (JSON)", "pdf": "Report (PDF)"}
_FLASH = "archive_flash"


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} day{'s' if seconds != 86400 else ''}"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _size(n: int | None) -> str:
    return "" if n is None else f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def archive_panel(store: Store, settings: Settings, session_id: str) -> None:
    """Archive status per file, "Retry upload", presigned links and "Restore from archive". Nothing when off."""
    if not settings.s3_bucket:
        return
    # boto3 is imported only when archiving is on.
    from coach_core.sessions.archive import (
        ARCHIVED,
        FAILED,
        Archive,
        ArchiveError,
        archive_session,
        archive_status,
        local_paths,
        restore_session,
        session_link,
    )

    archive = Archive.from_settings(settings)
    if archive is None:
        return
    objects = {o.kind: o for o in store.archive_objects(session_id)}
    local = local_paths(store, settings, session_id)
    status = archive_status(list(objects.values()))
    with st.expander(f"☁️ Archive: {status}", expanded=status != ARCHIVED):
        flash = st.session_state.pop(_FLASH, None)
        if flash:
            (st.success if flash[0] else st.warning)(flash[1])
        lines = []
        for kind in FILE_KINDS:
            o = objects.get(kind)
            if o is None:
                state = "not uploaded" if local[kind].is_file() else "no local file"
            elif o.status == FAILED:
                state = f"❌ not archived: {o.error}"
            elif o.status == ARCHIVED:
                state = f"✅ archived ({_size(o.size_bytes)})"
            else:
                state = "⏳ upload interrupted or in progress"
            if o is not None and not local[kind].is_file():
                state += " · missing on this machine"
            lines.append(f"- **{LABELS[kind]}**: {state}")
        st.markdown("\n".join(lines))
        folder = archive.session_keys(session_id, store.owner_of(session_id) or LOCAL_USER)["recording"].rsplit("/", 1)[
            0
        ]
        st.caption(f"Bucket `{archive.bucket}`, keys under `{folder}/`")

        archived = [k for k in FILE_KINDS if k in objects and objects[k].status == ARCHIVED]
        if archived:
            expiry = settings.s3_presign_expiry_s
            cols = st.columns(len(archived))
            try:
                for col, kind in zip(cols, archived, strict=True):
                    col.link_button(f"⬇ {LABELS[kind]}", session_link(store, settings, session_id, kind))
                st.caption(f"Share links are valid for {_duration(expiry)}; anyone holding one can download that file.")
            except ArchiveError as exc:
                st.warning(f"No download links: {exc}")

        restorable = [k for k in archived if not local[k].is_file()]
        if restorable and st.button("Restore from archive", key="archive_restore"):
            with st.spinner("Downloading from the archive…"):
                try:
                    result = restore_session(store, settings, session_id, archive=archive)
                    st.session_state[_FLASH] = ("recording" not in result.unavailable, result.summary())
                except ArchiveError as exc:
                    st.session_state[_FLASH] = (False, str(exc))
            st.rerun()

        if status != ARCHIVED or any(local[k].is_file() and k not in objects for k in FILE_KINDS):
            label = "Retry upload" if objects else "Upload to archive"
            if st.button(label, key="archive_retry"):
                with st.spinner("Uploading…"):
                    try:
                        result = archive_session(store, settings, session_id, archive=archive)
                        st.session_state[_FLASH] = (result.ok, result.summary())
                    except ArchiveError as exc:
                        st.session_state[_FLASH] = (False, str(exc))
                st.rerun()

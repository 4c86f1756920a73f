"""The media stage of a sync: for each queued item, newest first, get a transcript and index it.

An item's transcript comes from the publisher when the feed links one (and `publisher_transcripts`
is on), else from Whisper on the downloaded audio or video. Downloads (and publisher fetches) run
on a small pool one item ahead, so the next episode arrives while Whisper works on this one; only
the calling thread writes the database.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlite_utils import Database

from catalog import store, transcripts
from catalog.config import Config
from catalog.db import write
from catalog.errors import CatalogError, HTTPStatusError, MediaError
from catalog.fetch import Download, download_media
from catalog.media import check_duration, media_filename, probe
from catalog.models import Transcript
from catalog.publisher import PublisherText, fetch_publisher_text
from catalog.store import MediaJob
from catalog.transcribe import Transcriber, language_code

if TYPE_CHECKING:
    from catalog.jobs import SyncEvents, SyncReport

DOWNLOAD_AHEAD = 2
_DIRECT_MEDIA = (".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wav", ".flac", ".mp4", ".m4v", ".webm", ".mov", ".mkv")


@dataclass
class _Prepared:
    job: MediaJob
    download: Download | None = None
    duration: float | None = None
    publisher: PublisherText | None = None
    error: CatalogError | None = None


def needs_page_download(job: MediaJob) -> bool:
    """A web page (a YouTube watch URL, an HTML enclosure) rather than a media file: use yt-dlp."""
    path = job.url.lower().split("?")[0].split("#")[0]
    if (job.enclosure_type or "").startswith("text/html"):
        return True
    return bool(job.youtube_id) and not path.endswith(_DIRECT_MEDIA)


class MediaWorker:
    def __init__(
        self,
        db: Database,
        config: Config,
        *,
        client: httpx.Client,
        transcriber: Callable[[], Transcriber],
        events: SyncEvents,
        out_of_time: Callable[[], bool],
    ) -> None:
        self.db = db
        self.config = config
        self.settings = config.settings
        self.client = client
        self.transcriber = transcriber
        self.events = events
        self.out_of_time = out_of_time

    def run(self, report: SyncReport, limit: int | None) -> None:
        jobs = deque(store.pending_media(self.db, limit=limit))
        self.events.media_started(len(jobs))
        if not jobs:
            return
        with ThreadPoolExecutor(max_workers=DOWNLOAD_AHEAD, thread_name_prefix="download") as pool:
            ahead: deque[Future[_Prepared]] = deque()
            while jobs or ahead:
                while jobs and len(ahead) < DOWNLOAD_AHEAD and not self.out_of_time():
                    ahead.append(pool.submit(self._prepare, jobs.popleft()))
                if not ahead:
                    report.stopped_early = "time limit reached; the rest waits for the next run"
                    break
                self._finish(ahead.popleft().result(), report)
                if self.out_of_time() and (jobs or ahead):
                    report.stopped_early = "time limit reached; the rest waits for the next run"
                    for future in ahead:
                        future.cancel()
                    break

    # --- worker threads: network and files only, never the database ------------------------------

    def _prepare(self, job: MediaJob) -> _Prepared:
        prepared = _Prepared(job)
        try:
            extra = job.extra
            if extra.get("chapters") or (self.settings.publisher_transcripts and extra.get("transcripts")):
                prepared.publisher = fetch_publisher_text(
                    self.client,
                    extra,
                    want_transcript=self.settings.publisher_transcripts,
                    language=language_code(job.language),
                )
                if prepared.publisher.transcript is not None:
                    return prepared  # no need for the media at all
            if job.state in ("downloaded", "transcribed") and job.path and Path(job.path).exists():
                return prepared
            self.events.item_started(job, "downloading")
            folder = self.config.media_dir / _safe_dir(job.feed)
            if needs_page_download(job):
                from catalog.pages import fetch_page_media

                wants_captions = self.settings.publisher_transcripts and job.state == "new"
                page = fetch_page_media(
                    job.url,
                    folder / str(job.item_id),
                    self.settings.media_max_bytes,
                    timeout=self.settings.timeout_seconds,
                    captions_language=(language_code(job.language) or "en") if wants_captions else None,
                )
                publisher = prepared.publisher = prepared.publisher or PublisherText()
                if page.problem:
                    publisher.problems.append(page.problem)
                if page.captions is not None:
                    publisher.transcript = page.captions  # the uploader's captions: no media needed
                    return prepared
                download = page.download
            else:
                dest = folder / media_filename(job.item_id, job.url, job.enclosure_type)
                download = download_media(self.client, job.url, dest, max_bytes=self.settings.media_max_bytes)
            assert download is not None
            prepared.download = download
            info = probe(download.path)
            prepared.duration = info.duration
            check_duration(info, self.settings.max_duration_minutes, f"item {job.item_id} ({job.url})")
        except CatalogError as exc:
            prepared.error = exc
        except Exception as exc:  # a bug or a library surprise must not end the run
            prepared.error = CatalogError(f"{job.url}: unexpected {type(exc).__name__}: {exc}")
        return prepared

    # --- the calling thread: transcription and every write ---------------------------------------

    def _finish(self, prepared: _Prepared, report: SyncReport) -> None:
        job = prepared.job
        publisher = prepared.publisher or PublisherText()
        for problem in publisher.problems:
            report.warnings.append((f"item {job.item_id}", problem))
            with write(self.db):
                store.record_failure(self.db, report.run_id, "transcript", problem, item_id=job.item_id)
        try:
            if publisher.transcript is not None and prepared.error is None:
                publisher.transcript.chapters = publisher.chapters
                self._index(job, publisher.transcript, report)
                return
            if prepared.download is not None:
                with write(self.db):
                    store.media_downloaded(self.db, job.item_id, prepared.download, prepared.duration)
                job.path, job.state = str(prepared.download.path), "downloaded"
            if prepared.error is None:
                transcript = self._whisper(job)
                transcript.chapters = publisher.chapters
                self._index(job, transcript, report)
                return
        except CatalogError as exc:
            prepared.error = exc
        except Exception as exc:
            prepared.error = CatalogError(f"item {job.item_id}: unexpected {type(exc).__name__}: {exc}")
        assert prepared.error is not None
        self._failed(job, prepared.error, report)

    def _whisper(self, job: MediaJob) -> Transcript:
        media_path = Path(job.path or "")
        sidecar = transcripts.sidecar_path(media_path)
        if job.state == "transcribed" and sidecar.exists():
            return transcripts.load_json(sidecar)  # a crash came between transcribing and indexing
        if not media_path.is_file():
            with write(self.db):
                self.db.execute("UPDATE media SET state = 'new', path = NULL WHERE item_id = ?", [job.item_id])
            raise CatalogError(f"item {job.item_id}: media file {media_path} is missing; will download again")
        self.events.item_started(job, "transcribing")
        transcript = self.transcriber().transcribe(
            media_path,
            language=language_code(job.language),
            progress=lambda fraction: self.events.item_progress(job, fraction),
            vocabulary=self._vocabulary(job),
        )
        transcripts.save_json(transcript, sidecar)
        with write(self.db):
            self.db.execute("UPDATE media SET state = 'transcribed' WHERE item_id = ?", [job.item_id])
        return transcript

    def _vocabulary(self, job: MediaJob) -> list[str]:
        """Names the audio probably contains: the show, its people, proper names in the notes."""
        row = self.db.execute("SELECT title, body FROM items WHERE id = ?", [job.item_id]).fetchone()
        return feed_vocabulary(job.feed_title, job.extra.get("persons", []), f"{row[0] or ''}. {row[1] or ''}")

    def _index(self, job: MediaJob, transcript: Transcript, report: SyncReport) -> None:
        with write(self.db):
            store.save_transcript(self.db, job.item_id, transcript)
        if not self.settings.keep_media and job.path:
            Path(job.path).unlink(missing_ok=True)
        report.media_done += 1
        report.audio_seconds += transcript.duration or 0.0
        source = transcript.source if transcript.source != "whisper" else f"whisper {transcript.model}"
        self.events.item_done(job, "indexed", f"{len(transcript.segments)} segments, {source}")

    def _failed(self, job: MediaJob, error: CatalogError, report: SyncReport) -> None:
        message = str(error)
        permanent = isinstance(error, MediaError) or (isinstance(error, HTTPStatusError) and error.status in (404, 410))
        retry_after = error.retry_after if isinstance(error, HTTPStatusError) else None
        with write(self.db):
            result = store.media_failed(
                self.db,
                job.item_id,
                message,
                max_attempts=self.settings.max_attempts,
                retry_after=retry_after,
                permanent=permanent,
            )
            store.record_failure(self.db, report.run_id, "media", message, item_id=job.item_id)
        report.failures.append((f"item {job.item_id} ({job.feed}: {job.title})", message))
        self.events.item_done(job, result, message)


_NAME = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,})(?:[ -](?:[A-Z][a-z]+|[A-Z]{2,}|de|von|van|al))*\b")
_COMMON = {
    "The",
    "This",
    "That",
    "In",
    "On",
    "We",
    "It",
    "And",
    "But",
    "A",
    "An",
    "I",
    "You",
    "He",
    "She",
    "They",
    "What",
    "How",
    "Why",
    "When",
    "Who",
    "Today",
    "Episode",
    "Our",
    "If",
    "So",
    "For",
    "With",
    "Is",
    "Are",
}


def feed_vocabulary(show: str | None, persons: list[str], notes: str, *, limit: int = 12) -> list[str]:
    """Up to `limit` distinct names: the show title, listed people, then capitalised names in the notes."""
    found: list[str] = []
    candidates = [show or "", *persons, *(m.group(0) for m in _NAME.finditer(notes))]
    for name in candidates:
        name = name.strip(" .,:;")
        if not name or name in _COMMON or name.lower() in (f.lower() for f in found):
            continue
        found.append(name)
        if len(found) >= limit:
            break
    return found


def _safe_dir(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip(".-")
    return cleaned[:60] or "feed"

"""The media stage of a sync: for each queued item, newest first, get a transcript and index it.

An item's transcript comes from the publisher when the feed links one (and `publisher_transcripts`
is on), else from Whisper on the downloaded audio or video. Downloads (and publisher fetches) run
on a small pool one item ahead, so the next episode arrives while Whisper works on this one; only
the calling thread writes the database.

Whisper runs on an executor (`catalog.sync.executor`): in this process, or on a Dask cluster, with the
same code path here. Each task is leased in the database (`catalog.sync.transcription`). Items queued
again by `catalog retranscribe` follow the queue's own items, with the model asked for; their old
transcript stays searchable until the new one replaces it, in one transaction.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlite_utils import Database

from catalog.asr.prompt import feed_vocabulary
from catalog.asr.task import TranscriptionResult, TranscriptionTask
from catalog.asr.transcriber import Transcriber
from catalog.config import Config
from catalog.errors import CatalogError, HTTPStatusError, MediaError, ModelError, RefusedAddressError
from catalog.files import safe_name
from catalog.language import language_code
from catalog.media.download import download_media
from catalog.media.probe import check_duration, probe
from catalog.mediatypes import MEDIA_EXTENSIONS, media_filename, url_suffix
from catalog.models import Download, MediaJob, Transcript
from catalog.sources.network_policy import policy_for
from catalog.storage import leases, media_queue, runs
from catalog.storage import transcripts as transcript_store
from catalog.storage.database import write
from catalog.storage.items import item_text
from catalog.sync.events import SyncEvents
from catalog.sync.executor import Executor, LocalExecutor, transcriber_settings
from catalog.sync.report import SyncReport
from catalog.sync.transcription import MAX_ATTEMPTS, Running, Transcriptions, lease_seconds
from catalog.transcripts import sidecar
from catalog.transcripts.publisher import PublisherText, fetch_publisher_text
from catalog.transcripts.registry import parse_transcript

log = logging.getLogger(__name__)

DOWNLOAD_AHEAD = 2
BACKLOG = "backlog"  # `_Prepared.held` of a backlog item without a publisher transcript: left not fetched
WAIT_S = 1.0  # how long the coordinator waits for a result before it looks at the clock and the leases
STOPPED = "time limit reached; the rest waits for the next run"


@dataclass
class _Prepared:
    job: MediaJob
    download: Download | None = None
    duration: float | None = None
    publisher: PublisherText | None = None
    error: CatalogError | None = None
    held: str | None = None  # why Whisper is not run on it (the item stays queued)


def needs_page_download(job: MediaJob) -> bool:
    """A web page (a YouTube watch URL, an HTML enclosure) rather than a media file: use yt-dlp."""
    if (job.enclosure_type or "").startswith("text/html"):
        return True
    return bool(job.youtube_id) and url_suffix(job.url) not in MEDIA_EXTENSIONS


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
        feeds: list[str] | None = None,
        english_only: bool = False,
        item_ids: list[int] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.settings = config.settings
        self.client = client
        self.transcriber = transcriber
        self.events = events
        self.out_of_time = out_of_time
        self.feeds = feeds
        self.english_only = english_only
        self.item_ids = item_ids
        self.flight = Transcriptions(db, executor or LocalExecutor(transcriber_settings(config), transcriber))
        self.redo: dict[int, str] = {}  # item id -> the model `catalog retranscribe` asked for

    def run(self, report: SyncReport, limit: int | None) -> None:
        """Work the queue of the selected feeds, newest first, then the items queued for re-transcription.
        A model that cannot be loaded raises ModelError at once (it is the configuration, not the item):
        no item's attempts are spent. Out of time, no new work starts; the tasks out are waited for until
        their leases run out, then left (with their leases) to the next run."""
        jobs = deque(
            media_queue.pending_media(
                self.db,
                limit=limit,
                feeds=self.feeds,
                include_held=not self.english_only,
                item_ids=self.item_ids,
                backlog_transcripts=self.settings.publisher_transcripts,
            )
        )
        room = None if limit is None else limit - len(jobs)
        if self.item_ids is None and (room is None or room > 0):  # `catalog fetch`: only the items asked for
            for job, model in media_queue.retranscription_jobs(self.db, limit=room, feeds=self.feeds):
                self.redo[job.item_id] = model
                jobs.append(job)
        self.events.media_started(len(jobs))
        if not jobs:
            return
        with ThreadPoolExecutor(max_workers=DOWNLOAD_AHEAD, thread_name_prefix="download") as pool:
            ahead: deque[Future[_Prepared]] = deque()
            try:
                while jobs or ahead or self.flight:
                    while jobs and len(ahead) < DOWNLOAD_AHEAD and not self.out_of_time():
                        ahead.append(pool.submit(self._prepare, jobs.popleft()))
                    if ahead and self.flight.has_room():
                        self._finish(ahead.popleft().result(), report)
                    elif self.flight:
                        for running, result in self.flight.collect(WAIT_S):
                            self._came_back(running, result, report)
                    if self.out_of_time():
                        self.flight.stop_handing_out()
                        if jobs or ahead:
                            report.stopped_early = STOPPED
                            for future in ahead:
                                future.cancel()
                            jobs.clear()
                            ahead.clear()
            finally:
                self.flight.close()
        for running in self.flight.abandoned:
            report.stopped_early = STOPPED
            self.events.item_done(running.job, "retry", "time limit reached before its task came back")

    # --- worker threads: network and files only, never the database ------------------------------

    def _prepare(self, job: MediaJob) -> _Prepared:
        """Fetch what the item needs, every address checked against its feed's policy (this thread only)."""
        with policy_for(self.config, job.feed).applied():
            return self._fetch(job)

    def _fetch(self, job: MediaJob) -> _Prepared:
        prepared = _Prepared(job)
        try:
            extra = job.extra
            chapters = extra.get("chapters") or extra.get("psc_chapters")
            if chapters or (self.settings.publisher_transcripts and extra.get("transcripts")):
                prepared.publisher = fetch_publisher_text(
                    self.client,
                    extra,
                    want_transcript=self.settings.publisher_transcripts and job.item_id not in self.redo,
                    language=language_code(job.language),
                )
                if prepared.publisher.transcript is not None:
                    log.info("item %d: publisher transcript %s", job.item_id, prepared.publisher.transcript.url)
                    return prepared  # no need for the media at all
            if job.state == "skipped":  # backlog: its publisher transcript or nothing; never the media
                prepared.held = BACKLOG
                return prepared
            if job.transcript_only:  # nothing to download: the transcript was all there is
                if not self.settings.publisher_transcripts:
                    prepared.held = "published as a transcript only, and publisher_transcripts is off"
                    return prepared
                problems = "; ".join(prepared.publisher.problems) if prepared.publisher else "no transcript read"
                raise CatalogError(
                    f"item {job.item_id}: published as a transcript only, and it could not be read: {problems}"
                )
            prepared.held = None if job.item_id in self.redo else self._hold_reason(job)
            if prepared.held:
                return prepared  # not downloaded: it would not be transcribed
            if job.state in ("downloaded", "transcribed", "indexed") and job.path and Path(job.path).exists():
                return prepared
            self.events.item_started(job, "downloading")
            folder = self.config.media_dir / safe_name(job.feed)
            if needs_page_download(job):
                from catalog.media.pages import fetch_page_media

                wants_captions = self.settings.publisher_transcripts and job.state == "new"
                page = fetch_page_media(
                    job.url,
                    folder / str(job.item_id),
                    self.settings.media_max_bytes,
                    timeout=self.settings.timeout_seconds,
                    captions_language=(language_code(job.language) or "en") if wants_captions else None,
                    client=self.client,
                )
                publisher = prepared.publisher = prepared.publisher or PublisherText()
                if page.problem:
                    publisher.problems.append(page.problem)
                if page.captions is not None:  # the uploader's captions: no media needed
                    captions = page.captions
                    try:
                        publisher.transcript = parse_transcript(captions.data, captions.format, source="captions")
                    except CatalogError as exc:
                        publisher.problems.append(f"captions {captions.url}: {exc}")
                    else:
                        publisher.transcript.language, publisher.transcript.url = captions.language, captions.url
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

    def _hold_reason(self, job: MediaJob) -> str | None:
        """Why Whisper must not run on this item: an English-only model and a feed in another language
        would index confident nonsense ("He is not a good one, but he is not a good one.")."""
        language = language_code(job.language)
        if not self.english_only or language in (None, "en"):
            return None
        return (
            f"language {job.language!r} and the English-only model {self.settings.model!r}: not transcribed; "
            "set `model:` to a multilingual model (small, large-v3-turbo) to transcribe it"
        )

    # --- the calling thread: transcription and every write ---------------------------------------

    def _finish(self, prepared: _Prepared, report: SyncReport) -> None:
        job = prepared.job
        publisher = prepared.publisher or PublisherText()
        for problem in publisher.problems:
            report.warnings.append((f"item {job.item_id}", problem))
            with write(self.db):
                runs.record_failure(self.db, report.run_id, "transcript", problem, item_id=job.item_id)
        if prepared.held == BACKLOG:
            with write(self.db):
                media_queue.backlog_tried(self.db, job.item_id)
            self.events.item_done(job, "skipped", "backlog: no publisher transcript could be read; media not fetched")
            return
        if prepared.held and prepared.error is None:
            self._held(job, prepared.held, report)
            return
        try:
            if publisher.transcript is not None and prepared.error is None:
                publisher.transcript.chapters = publisher.chapters
                self._index(job, publisher.transcript, report)
                return
            if prepared.download is not None:
                with write(self.db):
                    if job.item_id in self.redo:  # indexed, and stays so until the new transcript is in
                        media_queue.media_refetched(self.db, job.item_id, prepared.download)
                    else:
                        media_queue.media_downloaded(self.db, job.item_id, prepared.download, prepared.duration)
                        job.state = "downloaded"
                job.path = str(prepared.download.path)
            if prepared.error is None:
                self._whisper(job, prepared, report)
                return
        except ModelError:
            raise
        except CatalogError as exc:
            prepared.error = exc
        except Exception as exc:
            prepared.error = CatalogError(f"item {job.item_id}: unexpected {type(exc).__name__}: {exc}")
        assert prepared.error is not None
        self._failed(job, prepared.error, report)

    def _held(self, job: MediaJob, reason: str, report: SyncReport) -> None:
        report.media_held += 1
        if job.held_reason != reason:  # said once, when first held; `catalog status` keeps showing it
            with write(self.db):
                media_queue.hold(self.db, job.item_id, reason)
                runs.record_failure(self.db, report.run_id, "media", f"held: {reason}", item_id=job.item_id)
            report.notices.append((f"item {job.item_id} ({job.feed}: {job.title})", reason))
        self.events.item_done(job, "held", reason)

    def _whisper(self, job: MediaJob, prepared: _Prepared, report: SyncReport) -> None:
        """Hand the item to the executor (in-process, it is transcribed before this returns)."""
        chapters = prepared.publisher.chapters if prepared.publisher else []
        media_path = Path(job.path or "")
        model = self.redo.get(job.item_id)
        saved = sidecar.sidecar_path(media_path)
        if model is None and job.state == "transcribed" and saved.exists():
            transcript = sidecar.load_json(saved)  # a crash came between transcribing and indexing
            transcript.chapters = chapters
            self._index(job, transcript, report)
            return
        if not media_path.is_file():
            if model is None:  # an item being re-transcribed keeps its state (indexed) and path
                with write(self.db):
                    media_queue.media_missing(self.db, job.item_id)
            raise CatalogError(f"item {job.item_id}: media file {media_path} is missing; will download again")
        self.events.item_started(job, "transcribing")
        local = self.flight.executor.in_process
        task = TranscriptionTask(
            job.item_id,
            model or self.settings.model,
            transcriber_settings(self.config, model),
            media_path.suffix,
            language=language_code(job.language),
            vocabulary=tuple(self._vocabulary(job)),
            path=str(media_path) if local else None,
            data=None if local else media_path.read_bytes(),
        )
        seconds = lease_seconds(prepared.duration, task.model)
        running = Running(job, task, seconds, retranscribe=model is not None, context=chapters)
        self.flight.submit(running, progress=lambda fraction: self.events.item_progress(job, fraction))

    def _came_back(self, running: Running, result: TranscriptionResult, report: SyncReport) -> None:
        job = running.job
        if result.transcript is None:
            message = result.error or "no transcript"
            if result.model_error and not running.retranscribe:
                raise ModelError(message, hint="use the bundled `model: tiny.en`, or a local CTranslate2 model folder")
            with write(self.db):
                waits = self.flight.release(running)
            if running.retranscribe:
                self._redo_failed(job, message, report, waits)
            else:
                self._failed(job, CatalogError(message), report)
            return
        transcript = result.transcript
        transcript.chapters = running.context or []
        sidecar.save_json(transcript, sidecar.sidecar_path(Path(job.path or "")))
        if not running.retranscribe:
            with write(self.db):
                media_queue.media_transcribed(self.db, job.item_id)
        self._index(job, transcript, report, running)

    def _vocabulary(self, job: MediaJob) -> list[str]:
        """Names the audio probably contains: the show, its people, proper names in the notes."""
        title, body = item_text(self.db, job.item_id)
        return feed_vocabulary(job.feed_title, job.extra.get("persons", []), f"{title or ''}. {body or ''}")

    def _index(self, job: MediaJob, transcript: Transcript, report: SyncReport, running: Running | None = None) -> None:
        """Store the transcript (replacing any older one) and end its lease, in one transaction; a result
        whose lease another result already completed is dropped. Indexed another way (a publisher's
        transcript, a sidecar after a crash), the item's lease, left by a killed run, goes too."""
        with write(self.db):
            if running is not None and not self.flight.complete(running):
                return
            if running is None:
                leases.drop(self.db, job.item_id)
            transcript_store.save_transcript(self.db, job.item_id, transcript)
        if not self.settings.keep_media and job.path:
            Path(job.path).unlink(missing_ok=True)
        report.media_done += 1
        report.audio_seconds += transcript.duration or 0.0
        source = transcript.source if transcript.source != "whisper" else f"whisper {transcript.model}"
        self.events.item_done(job, "indexed", f"{len(transcript.segments)} segments, {source}")

    def _failed(self, job: MediaJob, error: CatalogError, report: SyncReport) -> None:
        message = str(error)
        if job.item_id in self.redo:  # failed before it was handed out (its media could not be had again)
            with write(self.db):
                waits = leases.redo_failed(self.db, job.item_id, max_attempts=MAX_ATTEMPTS)
            self._redo_failed(job, message, report, waits)
            return
        permanent = isinstance(error, (MediaError, RefusedAddressError)) or (
            isinstance(error, HTTPStatusError) and error.status in (404, 410)
        )
        retry_after = error.retry_after if isinstance(error, HTTPStatusError) else None
        with write(self.db):
            result = media_queue.media_failed(
                self.db,
                job.item_id,
                message,
                max_attempts=self.settings.max_attempts,
                retry_after=retry_after,
                permanent=permanent,
            )
            runs.record_failure(self.db, report.run_id, "media", message, item_id=job.item_id)
        report.failures.append((f"item {job.item_id} ({job.feed}: {job.title})", message))
        self.events.item_done(job, result, message)

    def _redo_failed(self, job: MediaJob, message: str, report: SyncReport, waits: bool) -> None:
        """A re-transcription failed: the item stays indexed, its transcript, state, attempts and path as they were."""
        message += "; tried again next sync" if waits else f"; given up after {MAX_ATTEMPTS} tries, old transcript kept"
        with write(self.db):
            runs.record_failure(self.db, report.run_id, "media", message, item_id=job.item_id)
        report.failures.append((f"item {job.item_id} ({job.feed}: {job.title})", message))
        self.events.item_done(job, "retry" if waits else "failed", message)

"""Regenerate the committed offline sample set in ``samples/``.

Run from the repository root (or anywhere)::

    python scripts/make_samples.py

Requirements: Python >= 3.10 (stdlib only) plus the ``espeak-ng``, ``ffmpeg`` and
``ffprobe`` executables on ``PATH``. The script is deterministic and re-runnable: it
overwrites ``samples/media/*``, ``samples/articles.xml``, ``samples/podcast.xml``,
``samples/video.xml`` and ``samples/manifest.json``.

How keyword timestamps are known: every clip is assembled from separately synthesised
speech *pieces* (plus fixed pauses, and for one clip a block of sine-chord "music").
A keyword always begins a piece, so its start time is the sum of the durations of
everything before that piece plus the leading silence espeak-ng put in front of it,
measured from the PCM samples (first sample above ``ONSET_THRESHOLD``).

Media layout (all mono, 22.05 kHz, 32 kbit/s audio):

* ``nonzero-ep1.mp3``        MP3 (libmp3lame), enclosure of podcast.xml item 1
* ``nonzero-ep2.m4a``        AAC-LC in MP4/M4A, enclosure of podcast.xml item 2
* ``lieven-talk.mp4``        H.264 64x64 @ 2 fps solid colour + AAC, enclosure of video.xml
* ``tone-then-speech.mp3``   6 s of sine chords, then speech; in no feed

Spoken-only keywords (listed in ``manifest.json`` with ``"spoken_only": true``) appear
in no feed text; the script asserts this.

Voice, speed, wording and pauses were chosen by transcribing the output with the bundled
faster-whisper ``tiny.en`` model (beam 5 and greedy, with and without VAD): every keyword
is transcribed exactly and its word timestamp lands within ~0.35 s of the manifest value.
tiny.en is sensitive to context, so if you edit any text, re-check the transcripts.
Output is byte-identical across runs for a given espeak-ng/ffmpeg build.
"""

from __future__ import annotations

import array
import email.utils
import json
import shutil
import subprocess
import sys
import tempfile
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
MEDIA = SAMPLES / "media"

RATE = 22050  # espeak-ng's native output rate; kept end to end (no resampling)
VOICE = "en-us-nyc"
SPEED = 140  # words per minute
ONSET_THRESHOLD = 328  # |sample| above ~-40 dBFS counts as speech onset
TONE_SECONDS = 6.0
AUDIO_BITRATE = "32k"

# Words that are spoken in the media but must never appear in any feed text.
SPOKEN_ONLY = ("armistice", "referendum", "crimea", "negotiations", "sanctions", "diplomacy", "grain")

# Common ffmpeg flags for reproducible output (no encoder/version tags, no timestamps).
FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags", "+bitexact", "-threads", "1"]


@dataclass(frozen=True)
class Piece:
    """One espeak-ng utterance, followed by ``pause`` seconds of silence."""

    text: str
    pause: float = 0.6
    keyword: str | None = None  # a spoken-only keyword that is the first word of ``text``
    phrase: str | None = None  # a (non spoken-only) phrase that begins ``text``
    speed: int | None = None  # words per minute; defaults to SPEED


@dataclass(frozen=True)
class Clip:
    name: str
    title: str
    pieces: tuple[Piece, ...]
    leading_tones: bool = False


@dataclass
class Built:
    clip: Clip
    duration: float = 0.0
    size: int = 0
    text: str = ""
    keywords: list[dict[str, object]] = field(default_factory=list)
    phrases: list[dict[str, object]] = field(default_factory=list)


CLIPS: tuple[Clip, ...] = (
    Clip(
        name="nonzero-ep1.mp3",
        title="Episode 1: Ways Out of the War",
        pieces=(
            Piece(
                "Welcome to the Nonzero sample podcast. This week we ask how the war in Ukraine could finally end.",
                pause=1.0,
            ),
            Piece("European peacekeepers might one day patrol a ceasefire line.", phrase="European peacekeepers"),
            Piece("Armistice, not peace, is the most likely outcome this year.", keyword="armistice"),
        ),
    ),
    Clip(
        name="nonzero-ep2.m4a",
        title="Episode 2: The Black Sea",
        pieces=(
            Piece(
                "This is episode two of the Nonzero sample podcast. Today we turn to the Black Sea "
                "and the southern front.",
                pause=1.0,
            ),
            Piece("Sanctions have not stopped the war.", keyword="sanctions"),
            Piece("Insurance costs for shipping have doubled since last summer."),
        ),
    ),
    Clip(
        name="lieven-talk.mp4",
        title="How to End the Ukraine War",
        pieces=(
            Piece("How to end the Ukraine war. This is a short sample talk about realistic goals for both sides."),
            Piece("Negotiations will have to start long before anyone is satisfied.", keyword="negotiations"),
            Piece("A durable settlement needs guarantees that both sides can live with."),
        ),
    ),
    Clip(
        name="tone-then-speech.mp3",
        title="Tones then speech",
        leading_tones=True,
        pieces=(
            Piece("Now, after the music, here is a short reflection on the war.", pause=1.2),
            Piece("Diplomacy is slow, but it is far cheaper than war.", keyword="diplomacy"),
        ),
    ),
)


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return proc.stdout


def read_pcm(path: Path) -> array.array[int]:
    with wave.open(str(path), "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE):
            raise RuntimeError(f"unexpected WAV format in {path}")
        pcm = array.array("h")
        pcm.frombytes(w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm


def write_pcm(path: Path, pcm: array.array[int]) -> None:
    data = array.array("h", pcm)
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data.tobytes())


def synth(text: str, speed: int, out: Path) -> array.array[int]:
    run(["espeak-ng", "-v", VOICE, "-s", str(speed), "-w", str(out), text])
    return read_pcm(out)


def onset(pcm: array.array[int]) -> int:
    """Index of the first sample louder than ONSET_THRESHOLD (leading silence length)."""
    for i, s in enumerate(pcm):
        if abs(s) > ONSET_THRESHOLD:
            return i
    raise RuntimeError("synthesised piece is silent")


def tones(out: Path) -> array.array[int]:
    """TONE_SECONDS of four sustained, decaying sine chords (I-vi-IV-V in C) via aevalsrc."""
    chords = ((261.63, 329.63, 392.00), (220.00, 261.63, 329.63), (174.61, 220.00, 261.63), (196.00, 246.94, 293.66))
    span = TONE_SECONDS / len(chords)
    terms = []
    for i, freqs in enumerate(chords):
        sines = "+".join(f"sin(2*PI*{f}*t)" for f in freqs)
        env = f"exp(-1.2*(t-{i * span}))*min(1,(t-{i * span})*40)*min(1,({(i + 1) * span}-t)*40)"
        terms.append(f"gte(t,{i * span})*lt(t,{(i + 1) * span})*0.12*{env}*({sines})")
    expr = "+".join(terms)
    run(
        [
            *FFMPEG,
            "-f",
            "lavfi",
            "-i",
            f"aevalsrc=exprs='{expr}':s={RATE}:d={TONE_SECONDS}:c=mono",
            "-c:a",
            "pcm_s16le",
            str(out),
        ]
    )
    pcm = read_pcm(out)
    want = round(TONE_SECONDS * RATE)
    return pcm[:want] + array.array("h", bytes(2 * max(0, want - len(pcm))))


def encode(wav: Path, seconds: float, out: Path) -> None:
    audio = ["-ac", "1", "-ar", str(RATE), "-b:a", AUDIO_BITRATE]
    suffix = out.suffix
    if suffix == ".mp3":
        cmd = [*FFMPEG, "-i", str(wav), "-c:a", "libmp3lame", *audio, *BITEXACT, str(out)]
    elif suffix == ".m4a":
        cmd = [*FFMPEG, "-i", str(wav), "-c:a", "aac", *audio, *BITEXACT, "-f", "ipod", str(out)]
    elif suffix == ".mp4":
        cmd = [
            *FFMPEG,
            *["-f", "lavfi", "-i", f"color=c=0x1f4e79:s=64x64:r=2:d={seconds:.3f}"],
            *["-i", str(wav)],
            *["-map", "0:v", "-map", "1:a"],
            *["-c:v", "libx264", "-preset", "medium", "-tune", "stillimage", "-pix_fmt", "yuv420p"],
            *["-x264-params", "keyint=20:min-keyint=20"],
            *["-c:a", "aac", *audio],
            *BITEXACT,
            *["-movflags", "+faststart", str(out)],
        ]
    else:
        raise ValueError(f"no encoder for {out.name}")
    run(cmd)


def probe_duration(path: Path) -> float:
    out = run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)])
    return round(float(out.strip()), 3)


def build_clip(clip: Clip, tmp: Path) -> Built:
    built = Built(clip)
    pcm = array.array("h")
    if clip.leading_tones:
        pcm += tones(tmp / "tones.wav")
    texts = []
    for n, piece in enumerate(clip.pieces):
        speech = synth(piece.text, piece.speed or SPEED, tmp / f"{clip.name}.{n}.wav")
        start = round((len(pcm) + onset(speech)) / RATE, 2)
        first_word = piece.text.split()[0].strip(",.").lower()
        if piece.keyword is not None:
            if first_word != piece.keyword:
                raise ValueError(f"keyword {piece.keyword!r} must start piece {piece.text!r}")
            built.keywords.append({"word": piece.keyword, "start": start, "spoken_only": True})
        if piece.phrase is not None:
            if not piece.text.lower().startswith(piece.phrase.lower()):
                raise ValueError(f"phrase {piece.phrase!r} must start piece {piece.text!r}")
            built.phrases.append({"text": piece.phrase, "start": start})
        pcm += speech + array.array("h", bytes(2 * round(piece.pause * RATE)))
        texts.append(piece.text)
    built.text = " ".join(texts)
    wav = tmp / f"{clip.name}.wav"
    write_pcm(wav, pcm)
    out = MEDIA / clip.name
    encode(wav, len(pcm) / RATE, out)
    built.duration = probe_duration(out)
    built.size = out.stat().st_size
    if not 10.0 <= built.duration <= 25.0:
        raise ValueError(f"{clip.name} is {built.duration:.1f}s long; want 10-25s")
    return built


# --------------------------------------------------------------------------- feeds


def rfc822(year: int, month: int, day: int, hour: int = 9) -> str:
    return email.utils.format_datetime(datetime(year, month, day, hour, 0, tzinfo=timezone.utc))


def itunes_duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Article(NamedTuple):
    guid: str  # also the article's link
    title: str
    author: str
    date: tuple[int, int, int]
    paragraphs: tuple[str, ...]  # HTML fragments (already HTML-escaped, may contain links)


ARTICLES = (
    Article(
        guid="https://example.org/statecraft/2026/01/security-guarantees",
        title="What Security Guarantees Could Ukraine Actually Get?",
        author="Maria Kovalenko",
        date=(2026, 1, 14),
        paragraphs=(
            "Any settlement of the Ukraine war will stand or fall on the guarantees that come with it. "
            "Kyiv wants commitments that deter a renewed Russian offensive; Moscow wants assurances that "
            "Ukraine will not become a forward base for NATO.",
            "One option under discussion in several capitals is a force of European peacekeepers stationed "
            "behind an agreed ceasefire line. Britain &amp; France have signalled interest, but the force "
            "would need a clear mandate, rules of engagement and a credible American backstop.",
            'For background, see the <a href="https://example.org/statecraft/guarantees-explainer">explainer '
            "on guarantee models</a>.",
        ),
    ),
    Article(
        guid="https://example.org/statecraft/2026/02/drone-war",
        title="The Drone War Is Rewriting Military Doctrine",
        author="Daniel Hart",
        date=(2026, 2, 3),
        paragraphs=(
            "Cheap first-person-view drones now account for a large share of battlefield casualties along "
            "the front in eastern Ukraine.",
            "Both armies have adapted with electronic warfare, netting over supply roads &amp; dispersed "
            "artillery positions, making large armoured breakthroughs rare.",
            'Our <a href="https://example.org/statecraft/drone-tracker">drone tracker</a> is updated weekly.',
        ),
    ),
    Article(
        guid="https://example.org/statecraft/2026/03/energy-winter",
        title="Energy Infrastructure and the Long Winter",
        author="Sofia Lind",
        date=(2026, 3, 9),
        paragraphs=(
            "Strikes on power stations have forced Ukraine to rebuild its grid around smaller, distributed "
            "generators that are harder to target.",
            "European utilities &amp; donors have shipped transformers and gas turbines, but repair crews "
            "remain stretched thin.",
            'Read the <a href="https://example.org/statecraft/grid-map">interactive grid map</a> for details.',
        ),
    ),
)


def articles_xml() -> str:
    items = []
    for a in ARTICLES:
        html = "".join(f"<p>{p}</p>" for p in a.paragraphs)
        summary = ET.fromstring(f"<x>{a.paragraphs[0]}</x>").text or ""
        items.append(
            "    <item>\n"
            f"      <title>{escape(a.title)}</title>\n"
            f"      <link>{escape(a.guid)}</link>\n"
            f'      <guid isPermaLink="true">{escape(a.guid)}</guid>\n'
            f"      <dc:creator>{escape(a.author)}</dc:creator>\n"
            f"      <pubDate>{rfc822(*a.date)}</pubDate>\n"
            f"      <description>{escape(summary)}</description>\n"
            f"      <content:encoded>{escape(html)}</content:encoded>\n"
            "    </item>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        "  <channel>\n"
        "    <title>Sample Statecraft</title>\n"
        "    <link>https://example.org/statecraft/</link>\n"
        "    <description>Sample analysis articles about the war in Ukraine.</description>\n"
        "    <language>en</language>\n"
        f"    <lastBuildDate>{rfc822(2026, 3, 9, 12)}</lastBuildDate>\n" + "".join(items) + "  </channel>\n"
        "</rss>\n"
    )


def enclosure_item(
    b: Built, guid: str, date: tuple[int, int, int], description: str, mime: str, extra: str = ""
) -> str:
    return (
        "    <item>\n"
        f"      <title>{escape(b.clip.title)}</title>\n"
        f'      <guid isPermaLink="false">{escape(guid)}</guid>\n'
        f"      <pubDate>{rfc822(*date)}</pubDate>\n"
        f"      <description>{escape(description)}</description>\n"
        f'      <enclosure url={quoteattr("media/" + b.clip.name)} length="{b.size}" type="{mime}"/>\n'
        f"      <itunes:duration>{itunes_duration(b.duration)}</itunes:duration>\n"
        f"{extra}"
        "    </item>\n"
    )


def podcast_xml(built: dict[str, Built]) -> str:
    ep1 = enclosure_item(
        built["nonzero-ep1.mp3"],
        "nonzero-sample-ep1",
        (2026, 1, 12),
        "How might the fighting in Ukraine stop, and who would police the peace?",
        "audio/mpeg",
        "      <itunes:episode>1</itunes:episode>\n",
    )
    ep2 = enclosure_item(
        built["nonzero-ep2.m4a"],
        "nonzero-sample-ep2",
        (2026, 2, 9),
        "The Black Sea, Odesa and the southern front.",
        "audio/mp4",
        "      <itunes:episode>2</itunes:episode>\n",
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">\n'
        "  <channel>\n"
        "    <title>Nonzero Sample Podcast</title>\n"
        "    <link>https://example.org/nonzero/</link>\n"
        "    <description>A tiny synthetic podcast feed for offline tests.</description>\n"
        "    <language>en</language>\n"
        "    <itunes:author>Sample Host</itunes:author>\n"
        "    <itunes:explicit>false</itunes:explicit>\n"
        '    <itunes:category text="News"/>\n' + ep2 + ep1 + "  </channel>\n"
        "</rss>\n"
    )


def video_xml(built: dict[str, Built]) -> str:
    talk = enclosure_item(
        built["lieven-talk.mp4"],
        "sample-talks-ukraine-war",
        (2026, 3, 2),
        "A short synthetic sample talk on realistic goals for ending the war in Ukraine.",
        "video/mp4",
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">\n'
        "  <channel>\n"
        "    <title>Sample Talks</title>\n"
        "    <link>https://example.org/talks/</link>\n"
        "    <description>Synthetic sample video talks on foreign policy.</description>\n"
        "    <language>en</language>\n" + talk + "  </channel>\n"
        "</rss>\n"
    )


def check_feeds(feeds: dict[str, str]) -> None:
    """Feeds must parse, never mention spoken-only keywords, and name the phrase in exactly one item.

    ``content:encoded`` holds escaped HTML, so its element text is the markup itself: a substring
    check over all element text and attribute values covers titles, descriptions and article bodies.
    """
    phrase_items = 0
    for name, xml in feeds.items():
        root = ET.fromstring(xml)
        blob = " ".join(t for el in root.iter() for t in (el.text, *el.attrib.values()) if t).lower()
        for word in SPOKEN_ONLY:
            if word in blob:
                raise ValueError(f"spoken-only keyword {word!r} appears in {name}")
        for item in root.iter("item"):
            item_text = " ".join(el.text for el in item.iter() if el.text).lower()
            phrase_items += "european peacekeepers" in item_text
    if phrase_items != 1:
        raise ValueError(f"'European peacekeepers' appears in {phrase_items} feed items; want exactly 1")


def main() -> int:
    for tool in ("espeak-ng", "ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found on PATH", file=sys.stderr)
            return 1
    MEDIA.mkdir(parents=True, exist_ok=True)
    built: dict[str, Built] = {}
    with tempfile.TemporaryDirectory(prefix="catalog-samples-") as tmpdir:
        for clip in CLIPS:
            built[clip.name] = build_clip(clip, Path(tmpdir))

    feeds = {"articles.xml": articles_xml(), "podcast.xml": podcast_xml(built), "video.xml": video_xml(built)}
    check_feeds(feeds)
    for name, xml in feeds.items():
        (SAMPLES / name).write_text(xml, encoding="utf-8")

    feed_of = {"nonzero-ep1.mp3": "podcast.xml", "nonzero-ep2.m4a": "podcast.xml", "lieven-talk.mp4": "video.xml"}
    manifest = {
        "generator": "scripts/make_samples.py",
        "tts": {"engine": "espeak-ng", "voice": VOICE, "speed_wpm": SPEED, "sample_rate": RATE},
        "spoken_only_keywords": sorted({str(k["word"]) for b in built.values() for k in b.keywords}),
        "media": {
            f"media/{name}": {
                "title": b.clip.title,
                "feed": feed_of.get(name),
                "bytes": b.size,
                "duration": b.duration,
                "speech_starts_at": TONE_SECONDS if b.clip.leading_tones else 0.0,
                "text": b.text,
                "keywords": b.keywords,
                "phrases": b.phrases,
            }
            for name, b in built.items()
        },
    }
    (SAMPLES / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for name, b in built.items():
        print(f"{name:24s} {b.size:7d} B  {b.duration:6.2f} s  {b.keywords}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

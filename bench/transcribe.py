"""Benchmark: word error rate and speed of our Whisper pipeline against the plain faster-whisper call.

    python bench/transcribe.py [--model tiny.en] [--corpus ../shared/corpus/speech] [--repeat 3]
                               [--configs plain,ours] [--threads 2] [--diff] [--per-clip]

Corpus: the real English speech clips in `--corpus` (manifest.csv gives each clip's reference text).
Two shapes are measured:

* `clips`: each clip transcribed on its own (one call per file, as found on disk);
* `episode`: all clips decoded to 16 kHz mono, joined in manifest order with 1 s of silence between
  them, written to one WAV (about 5 minutes: the shape of a real podcast) and transcribed in one call.

Configurations (`--configs`; the default is the two the issue asks for):

* `plain`: (a) the call a user would write: ``WhisperModel(model).transcribe(path)`` with every
  transcribe() default (beam 5, temperature fallback, conditioned on previous text, no VAD, no word
  timestamps). The model is loaded on the CPU with the same compute type and thread count as ours
  (`--compute-type int8 --threads 2`), so the comparison is the pipeline, not the arithmetic.
* `ours`: (b) `catalog.transcribe.WhisperTranscriber(model).transcribe(path)` with its defaults
  (word timestamps on).
* investigation configs: `greedy` (plain, beam 1), `plain-vad` (plain, vad_filter=True),
  `batched` (BatchedInferencePipeline defaults, batch 8), `batched-ts` (batched with timestamps),
  `ours-seq` (our windows, decoded one by one), `ours-vocab` (with a feed's vocabulary as prompt,
  FEED_VOCABULARY, unrelated to the corpus: it must not cost words), `ours-b1`/`ours-b2`/`ours-b5`
  (beam sizes), `ours-ts` (timestamp tokens), `ours-nogaps` (no re-decoding of skipped speech),
  `ours-novad` (faster-whisper's sequential decoder with our settings).

Scoring: WER = (substitutions + deletions + insertions) / reference words, with jiwer, after both
sides pass through `normalize()` below (lower case, punctuation removed, digits written as words,
disfluencies dropped). For `clips` the WER pools the errors and words of every clip.

Speed: xRT = seconds of audio / wall seconds of transcribe() including decoding the file and
consuming every segment; model loading is excluded (it is reported separately). Each figure is the
median of `--repeat` runs; configurations are interleaved run by run so that load on this shared
machine hits them alike. `cpu s` (user + system CPU seconds of the child) is printed beside the
wall time: when another process takes a core, wall time moves a lot and CPU time much less.

Memory: every (configuration, shape) runs in its own child Python process, which reports its own
peak resident set (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) at exit: model, audio, VAD and
decoding included, interpreter included.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "speech"
SAMPLE_RATE = 16000
PAUSE_S = 1.0

# ---------------------------------------------------------------------------------------------
# WER normaliser
# ---------------------------------------------------------------------------------------------

#: fillers dropped from both sides: they carry no content and references disagree on writing them
DISFLUENCIES = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "hm", "mm", "mhm", "uhm"})
#: spellings mapped to one form on both sides
SPELLINGS = {"yknow": "you know", "mr": "mister", "mrs": "missus", "dr": "doctor", "ok": "okay"}

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_words(n: int) -> str:
    """123 -> 'one hundred twenty three' (the style Whisper's normaliser also produces)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return number_words(n // size) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError(n)


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _numbers(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits, fraction, suffix = match.group(1).replace(",", ""), match.group(2), (match.group(3) or "")
        words = number_words(int(digits))
        if fraction:
            words += " point " + " ".join(_ONES[int(d)] for d in fraction)
        if suffix.lower() in ("st", "nd", "rd", "th"):
            words = _ordinal(words)
        elif suffix == "%":
            words += " percent"
        return f" {words} "

    return re.sub(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|%)?", replace, text)


def normalize(text: str) -> str:
    """Text to compare: lower case, no punctuation, digits as words, no fillers.

    Apostrophes are removed inside words ("it's" -> "its", "deserv'd" -> "deservd") on both sides,
    hyphens split words ("self-substantial" -> "self substantial"), "Mr." becomes "mister", and the
    disfluencies in DISFLUENCIES are dropped.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    text = _numbers(text)
    text = re.sub(r"(\w)'(\w)", r"\1\2", text)  # contractions and elisions: one token
    text = re.sub(r"[^\w\s]|_", " ", text)  # every other punctuation mark is a word break
    words: list[str] = []
    for word in text.split():
        if word in DISFLUENCIES:
            continue
        words.extend(SPELLINGS.get(word, word).split())
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------


def load_corpus(corpus: Path) -> list[dict[str, Any]]:
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [{"file": str(corpus / r["file"]), "name": r["file"], "reference": r["reference_text"]} for r in rows]


def write_episode(clips: list[dict[str, Any]], target: Path) -> tuple[float, list[tuple[float, float]]]:
    """Join every clip (16 kHz mono) with PAUSE_S of silence; (duration, [(start, end) per clip])."""
    import numpy as np
    from faster_whisper import decode_audio

    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), dtype=np.float32)
    parts: list[Any] = []
    spans: list[tuple[float, float]] = []
    at = 0
    for index, clip in enumerate(clips):
        if index:
            parts.append(pause)
            at += len(pause)
        audio = decode_audio(clip["file"], sampling_rate=SAMPLE_RATE)
        spans.append((at / SAMPLE_RATE, (at + len(audio)) / SAMPLE_RATE))
        parts.append(audio)
        at += len(audio)
    joined = np.concatenate(parts)
    pcm = (np.clip(joined, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return len(joined) / SAMPLE_RATE, spans


def audio_seconds(path: str) -> float:
    import av

    with av.open(path) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1_000_000


# ---------------------------------------------------------------------------------------------
# Child: one configuration, one shape
# ---------------------------------------------------------------------------------------------


def _plain_runner(model_path: str, args: argparse.Namespace, **kwargs: Any) -> Any:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type=args.compute_type, cpu_threads=args.threads)

    def run(path: str) -> list[tuple[float, float, str]]:
        segments, _info = model.transcribe(path, **kwargs)
        return [(s.start, s.end, s.text) for s in segments]

    return run


def _batched_runner(model_path: str, args: argparse.Namespace, **kwargs: Any) -> Any:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type=args.compute_type, cpu_threads=args.threads)
    pipeline = BatchedInferencePipeline(model)

    def run(path: str) -> list[tuple[float, float, str]]:
        segments, _info = pipeline.transcribe(path, **kwargs)
        return [(s.start, s.end, s.text) for s in segments]

    return run


#: what a feed would pass as vocabulary (show title, people, names in the notes): unrelated to the corpus
FEED_VOCABULARY = ["The Nonzero Podcast", "Robert Wright", "Anatol Lieven", "Ukraine", "armistice"]


def _ours_runner(model_name: str, args: argparse.Namespace, vocabulary: list[str] | None = None, **kwargs: Any) -> Any:
    from catalog.asr.transcriber import WhisperTranscriber

    transcriber = WhisperTranscriber(model_name, compute_type=args.compute_type, cpu_threads=args.threads, **kwargs)
    transcriber.load()
    terms = vocabulary or args.vocabulary or None

    def run(path: str) -> list[tuple[float, float, str]]:
        transcript = transcriber.transcribe(Path(path), vocabulary=terms)
        return [(s.start, s.end, s.text) for s in transcript.segments]

    return run


CONFIGS: dict[str, Any] = {
    "plain": lambda m, n, a: _plain_runner(m, a),
    "greedy": lambda m, n, a: _plain_runner(m, a, beam_size=1),
    "plain-vad": lambda m, n, a: _plain_runner(m, a, vad_filter=True),
    "batched": lambda m, n, a: _batched_runner(m, a),
    "batched-ts": lambda m, n, a: _batched_runner(m, a, without_timestamps=False),
    "ours": lambda m, n, a: _ours_runner(n, a),
    "ours-seq": lambda m, n, a: _ours_runner(n, a, batch_size=1),
    "ours-vocab": lambda m, n, a: _ours_runner(n, a, vocabulary=FEED_VOCABULARY),
    "ours-b1": lambda m, n, a: _ours_runner(n, a, beam_size=1),
    "ours-b2": lambda m, n, a: _ours_runner(n, a, beam_size=2),
    "ours-b5": lambda m, n, a: _ours_runner(n, a, beam_size=5),
    "ours-ts": lambda m, n, a: _ours_runner(n, a, timestamps=True),
    "ours-nogaps": lambda m, n, a: _ours_runner(n, a, fill_gaps=False),
    "ours-novad": lambda m, n, a: _ours_runner(n, a, vad=False),
}


def child(args: argparse.Namespace) -> None:
    from catalog.asr.model_store import resolve_model

    model_path, model_name = resolve_model(args.model)
    paths = json.loads(args.paths)
    started = time.perf_counter()
    run = CONFIGS[args.child](model_path, model_name, args)
    load_s = time.perf_counter() - started
    texts, times, cpu = [], [], 0.0
    for path in paths:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        segments = run(path)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu += (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
        texts.append(" ".join(text.strip() for _s, _e, text in segments))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"texts": texts, "times": times, "cpu_s": cpu, "load_s": load_s, "peak_mib": peak_mib}))


def run_child(config: str, paths: list[str], args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        config,
        "--paths",
        json.dumps(paths),
        "--model",
        args.model,
        "--threads",
        str(args.threads),
        "--compute-type",
        args.compute_type,
    ]
    for term in args.vocabulary:
        command += ["--vocabulary", term]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{config} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------------------
# Parent
# ---------------------------------------------------------------------------------------------


def score(references: list[str], hypotheses: list[str]) -> tuple[float, Any]:
    import jiwer

    refs = [normalize(r) for r in references]
    hyps = [normalize(h) for h in hypotheses]
    out = jiwer.process_words(refs, hyps)
    return out.wer, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--configs", default="plain,ours", help=f"comma-separated, from: {', '.join(CONFIGS)}")
    parser.add_argument("--shapes", default="clips,episode")
    parser.add_argument("--vocabulary", action="append", default=[], help="terms passed to `ours` (repeatable)")
    parser.add_argument("--diff", action="store_true", help="print the word alignment of every configuration")
    parser.add_argument("--per-clip", action="store_true", help="print each clip's WER per configuration")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configs {unknown}; choose from {list(CONFIGS)}")
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    clips = load_corpus(args.corpus)
    references = [c["reference"] for c in clips]

    with tempfile.TemporaryDirectory() as tmp:
        episode = Path(tmp) / "episode.wav"
        episode_s, _spans = write_episode(clips, episode)
        clips_s = sum(audio_seconds(c["file"]) for c in clips)
        inputs = {
            "clips": ([c["file"] for c in clips], clips_s, references),
            "episode": ([str(episode)], episode_s, [" ".join(references)]),
        }
        print(
            f"corpus: {len(clips)} clips, {clips_s:.1f} s; episode {episode_s:.1f} s with {PAUSE_S:.0f} s pauses; "
            f"model {args.model}, {args.compute_type}, {args.threads} threads, {args.repeat} runs each "
            f"(median), {os.cpu_count()} cores"
        )
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for run in range(args.repeat):
            for shape in shapes:
                for config in configs:  # interleaved: machine load hits every configuration alike
                    paths = inputs[shape][0]
                    out = run_child(config, paths, args)
                    results.setdefault((config, shape), []).append(out)
                    print(f"  run {run + 1} {shape:8s} {config:14s} {sum(out['times']):6.1f} s", file=sys.stderr)

    print()
    columns = ("WER", 6), ("xRT", 6), ("wall s", 7), ("cpu s", 6), ("load s", 6), ("peak MiB", 8)
    header = f"{'shape':8s} {'config':14s} " + " ".join(f"{name:>{width}s}" for name, width in columns)
    print(header)
    print("-" * len(header))
    summary: dict[tuple[str, str], tuple[float, float, float]] = {}
    for shape in shapes:
        paths, seconds, refs = inputs[shape]
        for config in configs:
            runs = results[(config, shape)]
            wall = statistics.median(sum(r["times"]) for r in runs)
            wer, detail = score(refs, runs[-1]["texts"])
            peak = max(r["peak_mib"] for r in runs)
            load = statistics.median(r["load_s"] for r in runs)
            cpu = statistics.median(r["cpu_s"] for r in runs)
            summary[(config, shape)] = (wer, seconds / wall, peak)
            print(
                f"{shape:8s} {config:14s} {wer * 100:5.1f}% {seconds / wall:5.1f}x {wall:7.1f} {cpu:6.1f} "
                f"{load:6.1f} {peak:8.0f}"
            )
            if args.per_clip and shape == "clips":
                for clip, text in zip(clips, runs[-1]["texts"], strict=True):
                    clip_wer, _ = score([clip["reference"]], [text])
                    print(f"    {clip_wer * 100:6.1f}%  {clip['name']}")
            if args.diff:
                import jiwer

                print(jiwer.visualize_alignment(detail, show_measures=False))
        print()
    if "plain" in configs:
        for shape in shapes:
            base_wer, base_xrt, base_peak = summary[("plain", shape)]
            for config in configs:
                if config == "plain":
                    continue
                wer, xrt, peak = summary[(config, shape)]
                print(
                    f"{shape:8s} {config:14s} vs plain: speed x{xrt / base_xrt:.2f}, "
                    f"WER {wer * 100:.1f}% vs {base_wer * 100:.1f}% ({(wer - base_wer) * 100:+.1f} points), "
                    f"peak memory {peak:.0f} vs {base_peak:.0f} MiB"
                )


if __name__ == "__main__":
    main()

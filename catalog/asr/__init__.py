"""Stage 4, speech to text: the Whisper transcriber (`transcriber`) and its pipeline: voice activity
(`vad`), batched decoding (`decoder`, `results`), repair of bad windows (`repair`) and skipped speech
(`gaps`), the vocabulary prompt (`prompt`), which models are here (`model_store`), and every call into
faster-whisper (`engine`, the only module that imports it). `task`: one transcription as plain values,
run by any executor, in this process or on a cluster worker."""

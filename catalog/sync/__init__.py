"""Stage 6, a sync run: the run itself (`run`), its feed stage and media stage, the options and report,
progress events, and the lock that keeps it to one run at a time. Where Whisper runs: `executor` (in this
process) or `cluster` (Dask workers, imported only for `--cluster`), with the leases of the work in flight
(`transcription`)."""

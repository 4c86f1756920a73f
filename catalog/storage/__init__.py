"""Stage 5, the catalogue: the SQLite file and its write transaction (`database`), the schema as
migrations (`schema`), one module per table family (`feeds`, `items`, `media_queue`, `transcripts`,
`runs`, `leases` for Whisper work handed out), and the read side (`search`, `reports`). The only place with SQL."""

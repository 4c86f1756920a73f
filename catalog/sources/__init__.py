"""Stage 1, feeds: fetch feed documents (`http`), read them with feedparser (`feed_parser`, `text`), the
Podcasting 2.0 tags (`podcast_ns`), YouTube addresses (`youtube`), where a feed lives (`locations`) and
adding one to feeds.yaml (`subscribe`)."""

"""Stage 2, media: downloads streamed to disk and resumed (`download`), media behind web pages through
yt-dlp (`pages`), and reading a container's header (`probe`)."""

"""Every error catalog raises on purpose.

The hierarchy::

    CatalogError                 anything catalog reports to a user (exit code 1 unless stated)
    ├── ConfigError              feeds.yaml missing, unreadable or invalid (exit code 3)
    │   ├── ModelError           the configured Whisper model is not here or cannot be loaded
    │   └── ClusterError         the Dask scheduler of `--cluster` cannot be reached, or the extra is missing
    ├── DatabaseError            the catalogue file cannot be opened or migrated
    ├── SyncLockedError          another `catalog sync` holds the database (exit code 5)
    ├── FeedParseError           a fetched document has nothing in it that is a feed
    ├── FetchError               a feed or media URL could not be fetched
    │   ├── HTTPStatusError      the server answered with an error status (carries status, retry_after)
    │   ├── TooLargeError        the body passed the configured size cap
    │   ├── IncompleteError      fewer bytes arrived than Content-Length promised
    │   └── RefusedAddressError  a feed named an address it may not make catalog fetch (a private network,
    │                            a local file; see catalog.sources.network_policy); given up at once
    ├── MediaError               a download is not audio/video, or cannot be decoded
    │   └── TooLongError         the media is longer than the configured duration limit
    ├── TranscriptionError       Whisper failed on one file
    ├── TranscriptFormatError    a transcript or chapters file that cannot be read
    ├── SearchQueryError         a search query that cannot be run (with a hint)
    │   ├── SemanticUnavailableError  search by meaning asked for without the `semantic` extra (exit code 2)
    │   └── VectorModelError     the vectors were made by another embedding model: reindex (exit code 2)
    ├── WatchError               a saved search that cannot be added (its name taken, a webhook not http(s))
    ├── OpmlError                a file given to `catalog feeds import` that is not OPML (exit code 2)
    └── NotFoundError            an item id, feed name or saved search that is not in the catalogue

Library code raises these; `catalog.cli` turns them into messages on stderr and exit codes.
A sync never lets one of them escape for a single feed or item: it records the failure
(see `catalog status`) and carries on with the rest.
"""

from __future__ import annotations


class CatalogError(Exception):
    """Base class: an error with a message fit to show a user."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(CatalogError):
    exit_code = 3


class ModelError(ConfigError):
    """The configured Whisper model is not here or cannot be loaded (exit code 3)."""


class ClusterError(ConfigError):
    """`--cluster` (or `cluster:`) names a Dask scheduler that cannot be reached, or the `cluster` extra
    is not installed (exit code 3)."""


class DatabaseError(CatalogError):
    pass


class SyncLockedError(CatalogError):
    exit_code = 5


class FeedParseError(CatalogError):
    pass


class FetchError(CatalogError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TooLargeError(FetchError):
    pass


class IncompleteError(FetchError):
    pass


class RefusedAddressError(FetchError):
    """An address inside a feed that catalog will not fetch: not http(s), a local file outside the feed's
    folder, or a host on a loopback, private or other non-public network. Retrying cannot help."""


class MediaError(CatalogError):
    pass


class TooLongError(MediaError):
    pass


class TranscriptionError(CatalogError):
    pass


class SearchQueryError(CatalogError):
    exit_code = 2


class WatchError(CatalogError):
    """A saved search that cannot be added: its name is taken, or its webhook is not an http(s) URL."""


class OpmlError(CatalogError):
    """A file given to `catalog feeds import` that is not OPML (exit code 2, bad input)."""

    exit_code = 2


class NotFoundError(CatalogError):
    pass


class TranscriptFormatError(CatalogError):
    """A transcript or chapters file that cannot be read."""


class SemanticUnavailableError(SearchQueryError):
    """Search by meaning needs the optional `catalog[semantic]` extra (exit code 2)."""

    exit_code = 2


class VectorModelError(SearchQueryError):
    """The catalogue's vectors come from another embedding model than the installed one (exit code 2)."""

    exit_code = 2

"""catalog: follow a subject across articles, podcasts and videos, transcribed and searchable."""

__version__ = "0.1.0"

"""A feed whose bytes are not in its declared (or the default) encoding is read in the encoding
they are in: KOI8-R with no declaration (the feedparser test document), Windows-1251 served as
UTF-8, Shift_JIS, Greek named by the feed's <language>, undeclared Latin-1 (the UOL feed). When
nothing reads it cleanly, `catalog status` says so. Real feedparser, a real server on 127.0.0.1."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from catalog.app import Catalog
from catalog.sources.encoding import decode_feed
from catalog.sources.feed_parser import parse_feed
from catalog.sync.report import SyncOptions
from catalog.testing.localserver import LocalServer
from tests.conftest import FIXTURES


def _rss(title: str, extra: str = "") -> str:
    item = f"<item><guid>g</guid><title>{title}</title></item>"
    return f'<rss version="2.0"><channel><title>t</title>{extra}{item}</channel></rss>'


def test_koi8r_without_declaration() -> None:
    feed = parse_feed((FIXTURES / "feeds" / "feedparser_koi8r_chardet.xml").read_bytes(), url="https://x/f.xml")
    assert feed.entries[0].title == "Как пережить новогоднюю ночь"
    assert feed.entries[0].body.startswith("Наверное, единственное, во что сегодня можно верить")
    assert feed.warning is None


def test_undeclared_latin1_stays_latin1() -> None:
    feed = parse_feed((FIXTURES / "feeds" / "uol_noticias_latin1_no_decl.rss").read_bytes(), url="https://x/f.xml")
    assert feed.entries[0].title == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"


@pytest.mark.parametrize(
    ("title", "encoding", "extra", "content_type"),
    [
        ("Переговоры о прекращении огня продолжатся в Стамбуле", "cp1251", "", "text/xml; charset=utf-8"),
        ("停戦交渉はイスタンブールで続く予定です。代表団は捕虜交換について話し合います。", "shift_jis", "", None),
        ("Οι διαπραγματεύσεις για εκεχειρία συνεχίζονται", "iso8859_7", "<language>el</language>", None),
        ("Rozmowy o zawieszeniu broni będą kontynuowane w Stambule", "iso8859_2", "<language>pl</language>", None),
    ],
    ids=["cp1251-served-as-utf8", "shift-jis", "greek-by-language", "polish-by-language"],
)
def test_wrongly_declared_feeds_are_read(title: str, encoding: str, extra: str, content_type: str | None) -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?>' + _rss(title, extra)).encode(encoding)
    headers = {"Content-Type": content_type} if content_type else None
    feed = parse_feed(body, url="https://x/f.xml", headers=headers)
    assert feed.entries[0].title == title
    assert feed.warning is None


def test_clean_documents_are_not_touched() -> None:
    for name in (
        "kc0011_gb2312.rss",
        "jornal_de_noticias_iso8859-1.rss",
        "feedparser_utf16le_bom.xml",
        "no_agenda.xml",
    ):
        body = (FIXTURES / "feeds" / name).read_bytes()
        decoded = decode_feed(body, None)
        assert (decoded.body, decoded.detected, decoded.warning) == (body, None, None), name


def _junk() -> bytes:
    rng = random.Random(1)
    return bytes(rng.randrange(128, 256) for _ in range(400))


def test_status_says_when_nothing_reads_the_text(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "junk.xml").write_bytes(
        b'<?xml version="1.0"?>' + _rss("x").encode().replace(b"<title>x", b"<title>" + _junk())
    )
    server = LocalServer(site).start()
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({"feeds": [{"name": "junk", "url": server.url("junk.xml")}]}))
    cat = Catalog.open(config)
    try:
        cat.sync(SyncOptions())
        (feed,) = cat.status()["feeds"]
        assert feed["last_result"] == "ok, with warnings"
        assert "its encoding could not be detected: some characters may be wrong" in feed["last_error"]
    finally:
        cat.close()
        server.stop()

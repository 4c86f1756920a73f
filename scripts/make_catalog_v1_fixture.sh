#!/bin/sh
# Rebuild tests/fixtures/catalog-v1.db: a catalogue written by catalog v1 (git 4c79378, schema
# migrations 0001 and 0002 only), for tests/test_migrations.py.
#
# v1 is checked out into a temporary worktree outside the checkout, its `sync` runs on the shipped
# samples (3 articles; 2 podcast episodes and 1 video transcribed by the bundled tiny.en model),
# and the file is vacuumed, switched out of WAL and copied into tests/fixtures.
# Usage: sh scripts/make_catalog_v1_fixture.sh   (from anywhere inside the repository)
set -eu
REPO=$(git rev-parse --show-toplevel)
V1=$(mktemp -d /tmp/catalog-v1.XXXXXX)
OUT=$(mktemp -d /tmp/catalog-v1db.XXXXXX)
cleanup() {
    git -C "$REPO" worktree remove --force "$V1" 2>/dev/null || true
    rm -rf "$V1" "$OUT"
}
trap cleanup EXIT
git -C "$REPO" worktree add --detach "$V1" 4c79378
(cd "$V1" && PYTHONPATH="$V1" python -c 'from catalog.cli import main; main()' --db "$OUT/catalog.db" sync)
# What v1 itself answers, for the record (the test asserts the same item and time after migrating).
(cd "$V1" && PYTHONPATH="$V1" python -c 'from catalog.cli import main; main()' --db "$OUT/catalog.db" \
    search armistice --json)
python - "$OUT/catalog.db" <<'EOF'
import sqlite3
import sys

conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = DELETE")
conn.execute("VACUUM")
conn.close()
EOF
cp "$OUT/catalog.db" "$REPO/tests/fixtures/catalog-v1.db"
ls -l "$REPO/tests/fixtures/catalog-v1.db"

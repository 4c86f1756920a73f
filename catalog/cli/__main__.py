"""`python -m catalog.cli`, kept working for scripts written against v1; `python -m catalog` is the same."""

from catalog.cli.main import main

main()

"""Support for tests and benchmarks (shared by `tests/` and `bench/`): a local HTTP server with the
misbehaviours real servers have, and the kill -9 crash harness. Not used by catalog itself."""

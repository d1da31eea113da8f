"""The test suite: `make test` runs all of it, `make test-fast` all but the slow tests."""

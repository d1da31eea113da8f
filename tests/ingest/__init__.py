"""Tests of `occupipe.ingest`."""

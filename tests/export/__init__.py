"""Tests of `occupipe.export`."""

"""Tests of `occupipe.warehouse`."""

"""Tests of `occupipe.reporting`."""

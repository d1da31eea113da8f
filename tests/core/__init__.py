"""Tests of `occupipe.core`."""

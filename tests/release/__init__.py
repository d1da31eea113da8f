"""Tests of `occupipe.release`."""

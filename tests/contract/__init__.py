"""Tests of `occupipe.contract`."""

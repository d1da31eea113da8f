"""Tests of `occupipe.runner`."""

"""Tests of `occupipe.synth`."""

"""Benchmarks: rerunnable measurements of speed and memory (never timed assertions)."""

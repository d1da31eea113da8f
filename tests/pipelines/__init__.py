"""Tests of `pipelines`: the CLI, the Prefect flows and schedules, their observability."""

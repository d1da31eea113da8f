"""occupipe: turn SOUL Atlas occupation records into an analytics-ready DuckDB warehouse.

The library, by stage (each imports only the ones listed before it):
core (shared types and helpers) <- contract <- ingest / synth <- warehouse <- release
<- reporting / export <- runner. Importing it never imports Prefect: the flows, the
deployments and the CLI live in the application package `pipelines`.
"""

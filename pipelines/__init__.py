"""The application: Prefect flows, deployments and the `occupipe` command line, on the `occupipe` library."""

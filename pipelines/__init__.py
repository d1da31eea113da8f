"""The application: the Prefect flows, deployments and the `occupipe` CLI on the library."""

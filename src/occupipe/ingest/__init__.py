"""Source to Parquet parts: discovery, HTTP and S3 sources, batches, cache, normalize."""

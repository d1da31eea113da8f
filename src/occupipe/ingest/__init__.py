"""Source to Parquet parts: discovery, HTTP source, batches, fingerprints, cache, normalize."""

"""Export a release for downstream analysts: Parquet or Delta Lake, to a folder or S3."""

"""A package for scale-out tests, empty: each S3 or Dask test sits beside the code it tests."""

"""Export a release's tables for downstream analysts."""

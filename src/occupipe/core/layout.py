"""Names of the files and folders inside a warehouse directory (the layout every stage shares)."""

from __future__ import annotations

from pathlib import Path

DATABASE_NAME = "occupations.duckdb"
PARQUET_DIR = "parquet"
QUARANTINE_DIR = "quarantine"
PARTS_DIR = "parts"  # a build's intermediate Parquet part files, one folder per table
RELEASES_DIR = "releases"
CURRENT = "current"
HISTORY = "history.jsonl"
MANIFEST = "manifest.json"
INPUT_LEDGER = "inputs.parquet"  # every input document, its hash and outcome
SITE_DIR = "site"  # a release's static data-docs site
SITE_INDEX = "index.html"  # the site's front page
BUILD_DIR = ".build"
HTTP_CACHE = Path(".cache") / "http"  # the HTTP source's local mirror
CACHE_DIR = Path(".cache") / "extract"  # the extraction's cached part files, by batch

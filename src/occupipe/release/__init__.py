"""Releases: store and publish builds, gates, manifest and ledger, run lock, rollback, gc."""

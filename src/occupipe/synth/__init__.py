"""A deterministic generator of realistic synthetic SOUL Atlas records for demos and tests."""

"""The record contract: pydantic models, the fast decoder, the section spec, word counts."""

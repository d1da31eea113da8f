"""One run of the pipeline, stage by stage (injected stage runner); the quarantine replay."""

"""Preference pairs: the synthetic demo, ingest and validation, and the train/val split."""

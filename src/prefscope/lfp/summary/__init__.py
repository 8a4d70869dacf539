"""Branch L, summary: every output of a run in summary.json (data) and summary.md (people)."""

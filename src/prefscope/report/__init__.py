"""Per-dataset outputs of branch W: feature table, summary JSON/Markdown, plots, HTML."""

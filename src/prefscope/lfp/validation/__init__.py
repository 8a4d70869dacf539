"""Branch L, validation: token-level explanations, relevance, and Table 7."""

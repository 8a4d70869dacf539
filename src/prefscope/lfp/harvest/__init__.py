"""Branch L, harvest: MLP outputs of the kept layers on the probe texts, written once."""

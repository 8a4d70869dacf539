"""Feature descriptions and their fidelity (branch W)."""

"""serving: the analysts' read-only copy of the warehouse."""

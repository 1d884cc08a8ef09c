"""reports: the leadership report, written after each new serving copy."""

"""govaudit dashboard package."""

"""govaudit reports package."""

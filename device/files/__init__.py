"""Pictures on disk: find them, decode them upright and grey, read many on all cores."""

"""The Pi side of a deploy, run before the venv exists: standard library only."""

"""How readings leave digitcam: table, JSONL and CSV for predict and watch; snapshots."""

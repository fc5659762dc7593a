"""The live view of `digitcam watch --http`: a small read-only web server, its page and stream."""

"""Frames for `digitcam watch`: the sources, the reading loop and when an answer is stable."""

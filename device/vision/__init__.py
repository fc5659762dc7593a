"""A grey frame to a reading, numpy only: ink, regions, glyphs, the 28x28 input, the answer."""

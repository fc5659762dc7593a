"""Generated photos of handwriting on paper, for tests, demos and the benchmark."""

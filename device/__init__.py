"""digitcam on the Pi: read handwritten digits from photos and the camera (no TensorFlow)."""

"""The digit model: a TFLite interpreter (LiteRT first), its int8 maths, a self-test digit."""

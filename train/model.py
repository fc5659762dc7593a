"""The digit CNN: raw 0-255 pixels in, class probabilities (ten digits and `none`) out."""

from __future__ import annotations

import keras

from device.contract import IMAGE_SIZE, LABELS

# Conv widths per stage; each stage is two 3x3 convs then 2x2 pooling, then a 3x3 head conv.
ARCHITECTURES = {
    "small": (16, 32, 48),
    "base": (32, 64, 64),
    # A wider head for the 11 classes: 122K parameters, about 135 KB in int8 at the base
    # network's bytes per parameter (not converted yet: train/tried.md)
    "wide": (32, 64, 96),
}


def build_model(
    architecture: str = "base", dropout: float = 0.25, classes: int = len(LABELS)
) -> keras.Model:
    first, second, head = ARCHITECTURES[architecture]
    # The input stays float so the converter can give the int8 model a uint8 input
    # with scale 1: the tflite file then takes raw pixels, as the contract says.
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="pixels")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for width in (first, second):
        for _ in range(2):
            x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=0.9)(x)
            x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(head, 3, use_bias=False)(x)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"digitcam_{architecture}")

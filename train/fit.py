"""Trains the digit CNN with augmentation, checkpoints each epoch and resumes interrupted runs."""

from __future__ import annotations

import csv
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from train.augment import augment_batch
from train.data import Mnist, split_validation
from train.model import build_model


@dataclass(frozen=True)
class Profile:
    name: str
    epochs: int
    architecture: str = "base"
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    augment: bool = True


PROFILES = {
    "quick": Profile("quick", epochs=5),
    "default": Profile("default", epochs=40),
}


@dataclass(frozen=True)
class TrainRun:
    model: keras.Model
    history: dict[str, list[float]]
    seconds: float
    device: str
    train_images: int
    validation_images: int


def pick_strategy() -> tuple[tf.distribute.Strategy, str]:
    """Every GPU TensorFlow sees (mirrored when several), else the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(), f"{len(gpus)} GPUs (MirroredStrategy)"
    if gpus:
        return tf.distribute.get_strategy(), f"GPU ({gpus[0].name})"
    return tf.distribute.get_strategy(), f"CPU ({os.cpu_count()} cores)"


def make_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, *, augment: bool, seed: int
) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((x[..., None], y))
    if augment:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(
        lambda images, labels: (tf.cast(images, tf.float32), labels),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if augment:
        ds = ds.map(lambda im, lab: (augment_batch(im), lab), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def read_history(path: Path) -> dict[str, list[float]]:
    """The per-epoch log CSVLogger wrote, across resumed runs."""
    if not path.exists():
        return {}
    with path.open() as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {})}


def train(
    data: Mnist,
    out_dir: Path,
    profile: Profile,
    *,
    resume: bool = False,
    seed: int = 0,
    validation_fraction: float = 0.05,
    extra_callbacks: tuple[keras.callbacks.Callback, ...] = (),
) -> TrainRun:
    """Fits a model on data.x_train; the best epoch by validation loss is kept as model.keras."""
    out_dir.mkdir(parents=True, exist_ok=True)
    backup_dir, history_csv, best_path = (
        out_dir / "backup",
        out_dir / "history.csv",
        out_dir / "model.keras",
    )
    if not resume:
        shutil.rmtree(backup_dir, ignore_errors=True)
        history_csv.unlink(missing_ok=True)
    keras.utils.set_random_seed(seed)
    x_tr, y_tr, x_val, y_val = split_validation(
        data.x_train, data.y_train, validation_fraction, seed
    )
    strategy, device = pick_strategy()
    batch = profile.batch_size * strategy.num_replicas_in_sync
    train_ds = make_dataset(x_tr, y_tr, batch, augment=profile.augment, seed=seed)
    val_ds = make_dataset(x_val, y_val, batch, augment=False, seed=seed)
    steps = int(np.ceil(len(x_tr) / batch))
    with strategy.scope():
        model = build_model(profile.architecture)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=profile.learning_rate / 10,
            decay_steps=steps * (profile.epochs - 1),
            alpha=0.01,
            warmup_target=profile.learning_rate,
            warmup_steps=steps,
        )
        model.compile(
            optimizer=keras.optimizers.AdamW(schedule, weight_decay=profile.weight_decay),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    previous = read_history(history_csv).get("val_loss", [])
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup_dir)),
        keras.callbacks.ModelCheckpoint(
            str(best_path),
            monitor="val_loss",
            save_best_only=True,
            initial_value_threshold=min(previous) if previous else None,
        ),
        keras.callbacks.CSVLogger(str(history_csv), append=resume),
        *extra_callbacks,
    ]
    started = time.perf_counter()
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=profile.epochs,
        shuffle=False,  # the dataset shuffles itself, seeded
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    seconds = time.perf_counter() - started
    best = keras.models.load_model(best_path)
    return TrainRun(best, read_history(history_csv), seconds, device, len(x_tr), len(x_val))

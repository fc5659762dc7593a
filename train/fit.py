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

from train.crops import DeviceCrops
from train.data import Mnist, split_validation
from train.mix import NonDigits, mixed_training, validation_set
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
    nondigit_share: float = 0.35  # of each batch, on average: letters and synthetic shapes
    synthetic: int = 20000  # synthetic non-digits generated (seeded) for the run
    # With 0.1 and 35% non-digits, validation letter rejection held at 96-98% over the last ten
    # of 40 epochs; with 0 and 25% it fell from 96% (epoch 10) to 86% (epoch 16) (train/tried.md)
    label_smoothing: float = 0.1
    # Training digits (and half as many letters) photographed and cut out by the device's
    # pipeline, beside the raw ones: `none` learnt on EMNIST's 28x28s alone missed 44% of the
    # device's crops of validation letters (train/tried.md)
    device_crops: int = 8000
    # share of images elastically distorted (train/augment.py); 0 in the default recipe
    elastic: float = 0.0


VALIDATION_FRACTION = 0.05
# Letter crops are fewer than the 47,882 letters and shapes: repeated so they make nearly a
# quarter of the non-digits (as in the crop trials of train/tried.md)
LETTER_CROP_REPEATS = 4
PROFILES = {
    "quick": Profile("quick", epochs=5, device_crops=400),
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
    x_val: np.ndarray | None = None  # the validation digits, for choosing the decision rule
    y_val: np.ndarray | None = None


def save_model(model: keras.Model, path: Path) -> None:
    """Writes the model whole beside `path`, then renames it over it: an interrupted save never
    leaves a half-written model where convert looks."""
    partial = path.with_name(path.stem + ".partial.keras")
    model.save(partial)
    os.replace(partial, path)


def pick_strategy() -> tuple[tf.distribute.Strategy, str]:
    """Every GPU TensorFlow sees (mirrored when several), else the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(), f"{len(gpus)} GPUs (MirroredStrategy)"
    if gpus:
        return tf.distribute.get_strategy(), f"GPU ({gpus[0].name})"
    return tf.distribute.get_strategy(), f"CPU ({os.cpu_count()} cores)"


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
    validation_fraction: float = VALIDATION_FRACTION,
    nondigits: NonDigits | None = None,
    crops: DeviceCrops | None = None,
    extra_callbacks: tuple[keras.callbacks.Callback, ...] = (),
) -> TrainRun:
    """Fits a model on data.x_train (and non-digits as `none`, and device-made crops of both);
    the last epoch is kept as model.keras. An epoch sees every training digit once on average,
    crops or not."""
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
    others = nondigits.train if nondigits else None
    x_digits, y_digits = x_tr, y_tr
    if crops is not None:
        x_digits = np.concatenate([x_tr, crops.digits])
        y_digits = np.concatenate([y_tr, crops.digit_labels])
        letter_crops = np.repeat(crops.letters, LETTER_CROP_REPEATS, axis=0)
        others = letter_crops if others is None else np.concatenate([others, letter_crops])
    train_ds, steps = mixed_training(
        x_digits,
        y_digits,
        others,
        batch,
        share=profile.nondigit_share,
        augment=profile.augment,
        elastic=profile.elastic,
        seed=seed,
        epoch_digits=len(x_tr),
    )
    val_ds = validation_set(x_val, y_val, nondigits.validation if nondigits else None, batch)
    with strategy.scope():
        model = build_model(profile.architecture)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=profile.learning_rate / 10,
            decay_steps=steps * max(profile.epochs - 1, 1),
            alpha=0.01,
            warmup_target=profile.learning_rate,
            warmup_steps=steps,
        )
        model.compile(
            optimizer=keras.optimizers.AdamW(schedule, weight_decay=profile.weight_decay),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=profile.label_smoothing),
            metrics=["accuracy"],
        )
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup_dir)),
        # The last epoch is kept: the cosine schedule ends annealed there, and the validation
        # loss, dominated by the non-digits, swings too much to pick an epoch by.
        keras.callbacks.ModelCheckpoint(str(best_path)),
        # Every epoch kept too, so an epoch can be chosen afterwards on validation data.
        keras.callbacks.ModelCheckpoint(str(out_dir / "epochs" / "{epoch:02d}.keras")),
        keras.callbacks.CSVLogger(str(history_csv), append=resume),
        *extra_callbacks,
    ]
    started = time.perf_counter()
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=profile.epochs,
        steps_per_epoch=steps,
        shuffle=False,  # the dataset shuffles itself, seeded
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    seconds = time.perf_counter() - started
    best = keras.models.load_model(best_path)
    history = read_history(history_csv)
    return TrainRun(best, history, seconds, device, len(x_tr), len(x_val), x_val, y_val)

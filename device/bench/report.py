"""Renders bench.json's results as the Markdown tables the README shows."""

from __future__ import annotations

BATCH_NAMES = {
    "pillow_decode": "Pillow alone: decode to full-size grey (the floor)",
    "predict_1_worker": "digitcam predict, 1 process",
    "naive_tutorial": "tutorial approach: resize to 28x28, fixed threshold, Keras predict",
}


def _ms(spread: dict) -> str:
    return f"{spread['median']:.3f} | {spread['p99']:.3f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def markdown(results: dict) -> str:
    m, model = results["machine"], results["model"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['arch']}), Python {m['python']}, "
        f"numpy {m['numpy']}, interpreter {m['interpreter']}.",
        "",
        "| model | |",
        "|---|---|",
        f"| file size | {model['bytes']:,} bytes ({model['bytes'] / 1024:.1f} KiB) |",
        f"| parameters | {model['parameters']:,} |",
        f"| int8 accuracy, MNIST test set | {_percent(model['mnist_int8_accuracy'])} |",
        f"| peak RSS of a process that loads it and answers once | "
        f"{model['peak_rss_kib'] / 1024:.1f} MiB |",
        "",
        "| per call | median ms | p99 ms |",
        "|---|---|---|",
    ]
    for name, spread in results["interpreter"].items():
        threads = int(name.split("_")[0])
        label = f"{threads} thread" + ("s" if threads > 1 else "")
        lines.append(f"| interpreter, one 28x28 image, {label} | {_ms(spread)} |")
    pipeline = results["pipeline"]
    for stage, spread in pipeline.items():
        if stage not in ("total", "fps"):
            lines.append(f"| pipeline stage: {stage} | {_ms(spread)} |")
    lines.append(
        f"| **640x480 grey frame -> answer** ({pipeline['fps']:.0f} fps) | "
        f"**{pipeline['total']['median']:.3f}** | **{pipeline['total']['p99']:.3f}** |"
    )
    number = results.get("number_pipeline")
    if number:
        lines.append(
            f"| **640x480 frame of a 4-digit number -> answer** | "
            f"**{number['total']['median']:.3f}** | **{number['total']['p99']:.3f}** |"
        )
    batch = results["batch"]
    lines += [
        "",
        f"Batch: {batch['photos']} generated 640x480 JPEG photos of {batch['photo_source']} "
        "on paper.",
        "",
        "| batch | images/s (median, min-max) | vs Pillow decode | correct |",
        "|---|---|---|---|",
    ]
    for name, rate in batch["images_per_second"].items():
        label = BATCH_NAMES.get(
            name, name.replace("_", " ").replace("predict", "digitcam predict,")
        )
        correct = batch["accuracy"].get(name)
        lines.append(
            f"| {label} | {rate['median']:.0f} ({rate['min']:.0f}-{rate['max']:.0f}) | "
            f"{batch['ratio_to_pillow_decode'][name]:.2f}x | {_percent(correct)} |"
        )
    if batch.get("naive_model"):
        lines += ["", f"The tutorial approach's Keras model: {batch['naive_model']}."]
    soak = results["soak"]
    growth = (soak["rss_end_kib"] - soak["rss_start_kib"]) / 1024
    lines += [
        "",
        f"Watch path soak: {soak['frames']:,} synthetic 640x480 frames, "
        f"{soak['median_ms']:.2f} ms median, {soak['p99_ms']:.2f} ms p99, {soak['fps']:.0f} fps; "
        f"RSS {soak['rss_start_kib'] / 1024:.1f} -> {soak['rss_end_kib'] / 1024:.1f} MiB "
        f"({growth:+.1f} MiB).",
    ]
    return "\n".join(lines) + "\n"

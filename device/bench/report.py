"""Renders bench.json's results as the Markdown tables of bench.md (and docs/benchmarks.md)."""

from __future__ import annotations

BATCH_NAMES = {
    "pillow_decode": "Python script: Pillow decodes each file to full-size grey (the floor)",
    "predict_1_worker": "digitcam predict --workers 1",
    "naive_tutorial": "tutorial approach: resize to 28x28, fixed threshold, Keras predict",
}


def _ms(spread: dict) -> str:
    return f"{spread['median']:.3f} | {spread['p99']:.3f} | {spread['mean']:.3f}"


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
        "| per call | median ms | p99 ms | mean ms |",
        "|---|---|---|---|",
    ]
    for name, spread in results["interpreter"].items():
        threads = int(name.split("_")[0])
        label = f"{threads} thread" + ("s" if threads > 1 else "")
        lines.append(f"| interpreter, one 28x28 image, {label} | {_ms(spread)} |")
    pipeline = results["pipeline"]
    for stage, spread in pipeline["stages"].items():
        lines.append(f"| pipeline stage: {stage} | {_ms(spread)} |")
    lines.append(
        f"| **640x480 grey frame -> answer** ({pipeline['fps']:.0f} frames/s) | "
        f"**{pipeline['total']['median']:.3f}** | **{pipeline['total']['p99']:.3f}** | "
        f"**{pipeline['total']['mean']:.3f}** |"
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
        f"Batch: a folder of {batch['photos']} generated 640x480 JPEG photos of "
        f"{batch['photo_source']} on paper; each row a whole process, start-up included.",
        "",
        f"| batch | files/s (median, min-max) | vs the floor | right at "
        f"--min-confidence {batch['min_confidence']} |",
        "|---|---|---|---|",
    ]
    for name, rate in batch["images_per_second"].items():
        label = BATCH_NAMES.get(name, name.replace("predict_", "digitcam predict --workers "))
        label = label.removesuffix("_workers")
        ratio = batch["ratio_to_pillow_decode"].get(name, 1.0)
        lines.append(
            f"| {label} | {rate['median']:.0f} ({rate['min']:.0f}-{rate['max']:.0f}) | "
            f"{ratio:.2f}x | {_percent(batch['accuracy'].get(name))} |"
        )
    if batch.get("naive_model"):
        lines += ["", f"The tutorial approach's Keras model: {batch['naive_model']}."]
    memory = results.get("memory")
    if memory:
        lines += [
            "",
            "| peak RSS of `digitcam predict` (one process) | MiB |",
            "|---|---|",
            f"| the {batch['photos']} photos above | "
            f"{memory['predict_batch_peak_rss_kib'] / 1024:.1f} |",
            f"| the largest picture it decodes ({memory['largest_picture']}, "
            f"at the decode budget) | {memory['predict_largest_peak_rss_kib'] / 1024:.1f} |",
        ]
    soak = results["soak"]
    growth = (soak["rss_end_kib"] - soak["rss_start_kib"]) / 1024
    lines += [
        "",
        f"Watch path soak: {soak['frames']:,} synthetic 640x480 frames in a fresh process, "
        f"{soak['median_ms']:.2f} ms median, {soak['p99_ms']:.2f} ms p99, "
        f"{soak['fps']:.0f} frames/s; its RSS {soak['rss_start_kib'] / 1024:.1f} -> "
        f"{soak['rss_end_kib'] / 1024:.1f} MiB ({growth:+.1f} MiB).",
    ]
    live = results.get("live_view")
    if live:
        fps = live["fps"]
        lines += [
            "",
            f"Live view (`watch --http`), synthetic 640x480 frames, median of {live['runs']} "
            f"run(s) of {live['frames_per_run']:,} frames:",
            "",
            "| watch loop | frames/s | vs off |",
            "|---|---|---|",
            *(f"| {mode} | {rate:.0f} | {rate / fps['off']:.2f}x |" for mode, rate in fps.items()),
            "",
            f"The viewer received {live['stream_fps']:.1f} JPEGs/s (the cap: {live['http_fps']}).",
        ]
    return "\n".join(lines) + "\n"

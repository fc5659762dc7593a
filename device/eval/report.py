"""The outputs of an evaluation: a terminal summary and one self-contained report.html."""

from __future__ import annotations

import base64
import html

FIGURES = (  # summary key, what it means, the count it is out of
    ("accuracy", "right answers, all labelled pictures", "pictures"),
    ("digit_accuracy", "right answers, pictures of one digit", "digits"),
    ("number_accuracy", "whole number right, pictures of several digits", "numbers"),
    ("no_digit_accuracy", "'no digit' on pages without a digit", "no_digit_pages"),
    ("no_digit_rate_on_digits", "'no digit' answered on pictures with digits", None),
    ("wrong_digit_rate_on_digits", "a wrong answer on pictures with digits", None),
    ("false_digit_rate_on_none", "a digit answered on pages without one", "no_digit_pages"),
)


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def figure_lines(summary: dict) -> list[tuple[str, str, str]]:
    """(figure, value, out of) for each figure that applies to this set."""
    with_digits = summary["digits"] + summary["numbers"]
    lines = []
    for key, meaning, out_of in FIGURES:
        total = summary[out_of] if out_of else with_digits
        if summary[key] is not None:
            lines.append((meaning, percent(summary[key]), f"{total:,}"))
    return lines


def text_summary(summary: dict) -> str:
    """The figures as aligned lines for the terminal."""
    lines = [
        f"{value:>8}  {meaning} (of {total})" for meaning, value, total in figure_lines(summary)
    ]
    if summary["unreadable"]:
        lines.append(f"{summary['unreadable']:>8}  pictures could not be read (counted wrong)")
    classes = summary["per_class"]
    if classes:
        lines.append(
            "per label: "
            + ", ".join(f"{label} {percent(c['accuracy'])}" for label, c in classes.items())
        )
    for name, group in summary["per_folder"].items():
        lines.append(f"{percent(group['accuracy']):>8}  in {name}/ (of {group['pictures']})")
    return "\n".join(lines) + "\n"


def _data_uri(data: bytes | None, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}" if data else ""


def _img(data: bytes | None, mime: str, alt: str, css: str = "") -> str:
    if not data:
        return f'<span class="missing">{html.escape(alt)}: not available</span>'
    return f'<img src="{_data_uri(data, mime)}" alt="{html.escape(alt)}" class="{css}">'


STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.row{display:flex;gap:40px;flex-wrap:wrap;align-items:flex-start}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ccc;border-radius:6px;padding:8px;display:flex;gap:8px;
align-items:flex-start}
.card .thumb{max-width:240px;max-height:240px}.card .input{width:112px;height:112px;
image-rendering:pixelated;background:#000}
.card p{margin:2px 0;word-break:break-all}.wrong{color:#b00;font-weight:600;white-space:nowrap}
.missing{color:#888;font-size:13px}code{background:#f4f4f4;padding:1px 4px}
"""


def _card(case: dict) -> str:
    answer = "no digit" if case["answer"] is None else case["answer"]
    confidence = "" if case["confidence"] is None else f" ({case['confidence']:.2f})"
    if case["error"]:
        answer, confidence = f"unreadable: {case['error']}", ""
    return (
        '<div class="card"><div>'
        + _img(case["thumbnail"], "image/jpeg", "photo", "thumb")
        + "</div><div>"
        + _img(case["model_input"], "image/png", "28x28 model input", "input")
        + f"<p>label <b>{html.escape(case['label'])}</b></p>"
        + f'<p class="wrong">answer {html.escape(answer)}{confidence}</p>'
        + f"<p><code>{html.escape(case['file'])}</code></p></div></div>"
    )


def report_html(
    meta: dict, summary: dict, confusion: bytes | None, cases: list[dict], notes: list[str]
) -> str:
    """One HTML file with every picture inside it (data: URIs): it can be mailed or archived."""
    rows = "".join(
        f"<tr><td>{html.escape(m)}</td><td class='n'>{v}</td><td class='n'>{t}</td></tr>"
        for m, v, t in figure_lines(summary)
    )
    classes = "".join(
        f"<tr><td>{html.escape(label)}</td><td class='n'>{percent(c['accuracy'])}</td>"
        f"<td class='n'>{c['pictures']}</td></tr>"
        for label, c in (
            summary["per_class"] | {f"{k}/": v for k, v in summary["per_folder"].items()}
        ).items()
    )
    shown = meta.get("misreads_shown", len(cases))
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>digitcam eval: "
        f"{html.escape(meta['folder'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>digitcam eval: {html.escape(meta['folder'])}</h1>",
        f"<p>Model <code>{html.escape(meta['model'])}</code> (sha256 {meta['sha256'][:12]}), "
        f"--min-confidence {meta['min_confidence']}, "
        f"labels <code>{html.escape(meta['labels'])}</code>. "
        f"Command: <code>{html.escape(meta['command'])}</code></p>",
        f"<h2>Figures</h2><table><tr><th>figure</th><th>value</th><th>of</th></tr>{rows}</table>",
    ]
    side = []
    if classes:
        side.append(
            "<div><h2>Per label and per folder</h2><table><tr><th>label</th><th>right</th>"
            f"<th>pictures</th></tr>{classes}</table></div>"
        )
    if confusion:
        side.append(
            "<div><h2>Confusion matrix</h2><p>A row per label, a column per answer.</p>"
            + _img(confusion, "image/png", "confusion matrix")
            + "</div>"
        )
    parts.append('<div class="row">' + "".join(side) + "</div>")
    title = f"Misreads ({len(cases)})"
    parts.append(
        f"<h2>{title}</h2><p>Each: the photo with the region read boxed, the 28x28 the model "
        "saw, the label and the answer.</p>"
    )
    if shown < len(cases):
        parts.append(f"<p>The first {shown} are shown; summary.json lists them all.</p>")
    parts.append('<div class="cards">' + "".join(_card(c) for c in cases[:shown]) + "</div>")
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        parts.append(f"<h2>Notes on the labels ({len(notes)})</h2><ul>{items}</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)

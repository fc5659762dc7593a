"""What a frame was read as: the digits in reading order, the text they make, what was left out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h in the frame's pixels


@dataclass(frozen=True)
class DigitRead:
    """One digit read: the model's answer, how sure it was, where, and on which text line."""

    digit: int
    confidence: float
    box: Box
    line: int  # 0 for the top line
    model_input: np.ndarray | None = field(default=None, compare=False, repr=False)

    def fields(self) -> dict:
        box = [int(v) for v in self.box]
        return {"digit": self.digit, "confidence": round(self.confidence, 4), "box": box,
                "line": self.line}  # fmt: skip


def scale_box(box: Box, scale: float, size: tuple[int, int] | None = None) -> Box:
    """The box times `scale`, cut to a picture of `size` (width, height) when given: rounding
    a reduced picture's box back to the file's pixels may overshoot its edge by a few pixels."""
    x, y, w, h = (int(round(v * scale)) for v in box)
    if size is None:
        return x, y, w, h
    x, y = min(max(0, x), size[0] - 1), min(max(0, y), size[1] - 1)
    return x, y, max(1, min(w, size[0] - x)), max(1, min(h, size[1] - y))


@dataclass(frozen=True)
class Reading:
    """The reading of one frame. digit, confidence and box describe the single digit when
    exactly one was read (as before numbers were read); with none or several they are null,
    except that an unsure glyph keeps its confidence and box when no digit was read."""

    digit: int | None  # None: no digit, or several (see digits)
    confidence: float | None  # the model's probability for its best class; None: nothing read
    box: Box | None  # the region the model was shown
    model_input: np.ndarray | None  # the 28x28 uint8 the model saw (the single digit's)
    reason: str  # "read", "no plausible digit", "low confidence" or "not a digit"
    digits: tuple[DigitRead, ...] = ()  # every digit read, in reading order
    rejected: int = 0  # plausible glyphs left out: not a digit, or the model unsure
    crowded: bool = False  # more glyphs than a frame reads: only the likeliest line was read

    def __post_init__(self):
        if not self.digits and self.digit is not None and self.box is not None:
            one = DigitRead(self.digit, self.confidence or 0.0, self.box, 0, self.model_input)
            object.__setattr__(self, "digits", (one,))

    @property
    def text(self) -> str | None:
        """The digits read, text lines separated by a space; None when no digit was read."""
        if not self.digits:
            return None
        words: list[str] = []
        for i, d in enumerate(self.digits):
            if i and d.line != self.digits[i - 1].line:
                words.append(" ")
            words.append(str(d.digit))
        return "".join(words)

    @property
    def weakest(self) -> float | None:
        """The lowest confidence among the digits read (a number is as sure as its worst
        digit); the unsure glyph's confidence when none was read."""
        if self.digits:
            return min(d.confidence for d in self.digits)
        return self.confidence

    @property
    def outline(self) -> Box | None:
        """The box around every digit read (or the unsure glyph's box when none was)."""
        boxes = [d.box for d in self.digits] or ([self.box] if self.box else [])
        if not boxes:
            return None
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)

    @property
    def model_inputs(self) -> list[np.ndarray]:
        """The 28x28 inputs the model saw: each digit's, in reading order, else the single one."""
        inputs = [d.model_input for d in self.digits if d.model_input is not None]
        if not inputs and self.model_input is not None:
            inputs = [self.model_input]
        return inputs

    def fields(self) -> dict:
        """The reading's JSON-ready fields, for every output format."""
        confidence = None if self.confidence is None else round(self.confidence, 4)
        box = None if self.box is None else [int(v) for v in self.box]
        return {
            "text": self.text,
            "digit": self.digit,
            "confidence": confidence,
            "box": box,
            "digits": [d.fields() for d in self.digits],
            "rejected": self.rejected,
            "crowded": self.crowded,
        }

    def scaled(self, scale: float, size: tuple[int, int] | None = None) -> Reading:
        """The same reading with every box multiplied by `scale` (working to file pixels) and,
        given the file's size (width, height), kept inside it."""
        if scale == 1 and size is None:
            return self
        return replace(
            self,
            box=None if self.box is None else scale_box(self.box, scale, size),
            digits=tuple(replace(d, box=scale_box(d.box, scale, size)) for d in self.digits),
        )


def single(digits: tuple[DigitRead, ...]) -> DigitRead | None:
    return digits[0] if len(digits) == 1 else None

"""When an answer is worth reporting: the same answer over N frames in a row, and a new one."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

DEFAULT_STABLE_FRAMES = 3  # 0.1 s at 30 fps: a hand passing over the paper is not reported

_NOTHING = object()  # nothing reported yet: the first stable answer, even "no digit", counts


class Stabiliser:
    """Feed one answer per frame (the text read, or None for "no digit"); update() says when the
    answer has been the same for `frames` frames in a row and differs from the last reported."""

    def __init__(self, frames: int = DEFAULT_STABLE_FRAMES):
        if frames < 1:
            raise ValueError(f"frames must be at least 1, not {frames}")
        self.frames = frames
        self._candidate: object = _NOTHING
        self._run = 0
        self._reported: object = _NOTHING

    def update(self, answer: Hashable) -> bool:
        """True when this frame makes `answer` the new stable answer."""
        if answer == self._candidate:
            self._run += 1
        else:
            self._candidate, self._run = answer, 1
        if self._run >= self.frames and answer != self._reported:
            self._reported = answer
            return True
        return False


def stable_changes(answers: Iterable[Hashable], frames: int) -> list[tuple[int, Hashable]]:
    """(frame index, answer) for every answer a Stabiliser reports over a sequence."""
    stabiliser = Stabiliser(frames)
    return [(i, answer) for i, answer in enumerate(answers) if stabiliser.update(answer)]

"""A progress bar on stderr: one line redrawn at most ten times a second (the final line only
when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class Progress:
    """Counts work done out of a total and draws `label [#####.....] 52% 5200/10000 3.1s`."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.live = sys.stderr.isatty()
        self.started = time.perf_counter()
        self._drawn_at = 0.0

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        now = time.perf_counter()
        if now - self._drawn_at >= 0.1 or self.done >= self.total:
            self._drawn_at = now
            self._draw(final=False)

    def _draw(self, *, final: bool) -> None:
        fraction = min(self.done / self.total, 1.0)
        width = 30
        filled = int(fraction * width)
        bar = "#" * filled + "." * (width - filled)
        elapsed = time.perf_counter() - self.started
        line = f"{self.label:<24} [{bar}] {fraction:4.0%} {self.done}/{self.total} {elapsed:6.1f}s"
        if self.live:
            sys.stderr.write("\r" + line + ("\n" if final else ""))
            sys.stderr.flush()
        elif final:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._draw(final=True)

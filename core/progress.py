"""A management command's progress bar: redrawn in place on a terminal, one line per tenth in a log."""

from __future__ import annotations

from typing import Any

BAR_WIDTH = 40


class ProgressBar:
    def __init__(self, stdout: Any, *, label: str = "") -> None:
        self.stdout = stdout
        self.label = f"{label} " if label else ""
        isatty = getattr(stdout, "isatty", None)
        self.interactive = bool(isatty and isatty())
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        filled = BAR_WIDTH * done // total
        line = f"{self.label}[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} ({100 * done // total}%)"
        if self.interactive:
            self.stdout.write(f"\r{line}", ending="")
            self.stdout.flush()
            if done >= total:
                self.stdout.write("")
            return
        tenth = 10 * done // total
        if tenth != self._last_tenth or done >= total:
            self._last_tenth = tenth
            self.stdout.write(line)

"""The progress bar of a batch run: done, failed and running notebooks, and the estimated time left (tqdm)."""

from __future__ import annotations

__all__ = ["Progress"]

from kpi_workbook.batch.records import RunResult, Status


class Progress:
    """A tqdm bar on stderr over every notebook of a run; hidden when disabled or when stderr is no terminal."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        from tqdm import tqdm

        # tqdm's monitor thread only tunes how often a fast bar redraws; this one redraws at each event. Without that
        # thread the runner is the process's only thread and its workers can be forked from it (see executors).
        tqdm.monitor_interval = 0
        self.bar = tqdm(total=total, unit="run", desc="notebooks", disable=None if enabled else True,
                        bar_format="{desc}: {n_fmt}/{total_fmt} done{postfix} [{elapsed}, {remaining} left]")
        self.running: set[tuple[str, str]] = set()
        self.failed = 0
        self._show()

    def started(self, key: tuple[str, str]) -> None:
        self.running.add(key)
        self._show()

    def finished(self, result: RunResult) -> None:
        self.running.discard(result.key)
        self.failed += result.status is not Status.OK
        self._show(refresh=False)
        self.bar.update()  # redraws, with the counts above

    def _show(self, refresh: bool = True) -> None:
        self.bar.set_postfix_str(f"{self.failed} failed, {len(self.running)} running", refresh=refresh)

    def close(self) -> None:
        self.bar.close()

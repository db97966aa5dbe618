"""Report helpers: a settable clock, moments of October 2026 in UTC and a history played in time order."""

import datetime as dt

from sla.sweep import run_sweep
from tests.support.clock import Clock

UTC = dt.UTC


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=UTC)


class History:
    """Runs the steps of the story in time order, sweeping SLA clocks at each moment like the worker would."""

    def __init__(self, clock: Clock):
        self.clock, self.steps = clock, []

    def at(self, moment: dt.datetime, action) -> None:
        self.steps.append((moment, len(self.steps), action))

    def play(self) -> None:
        for moment, _, action in sorted(self.steps, key=lambda step: step[:2]):
            self.clock.now = moment
            run_sweep(now=moment)
            action()

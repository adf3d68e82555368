"""Timing in turns: every candidate runs once per round (A B C A B C ...), after a warm-up.

Shared machines drift by up to 1.5x between minutes, so two candidates are only compared
within a round: the ratio is taken round by round and its median reported, never the ratio
of two medians measured minutes apart.
"""
import gc
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Turns:
    """Seconds per round for each candidate, in the order they ran."""
    seconds: dict = field(default_factory=dict)  # name -> [seconds of round 0, round 1, ...]

    def median(self, name: str) -> float:
        return statistics.median(self.seconds[name])

    def ratio(self, name: str, baseline: str) -> float:
        """Median over rounds of name's time / baseline's time in the same round."""
        return statistics.median(a / b for a, b in zip(self.seconds[name], self.seconds[baseline]))

    def ratio_range(self, name: str, baseline: str) -> tuple:
        ratios = [a / b for a, b in zip(self.seconds[name], self.seconds[baseline])]
        return min(ratios), max(ratios)


def run_in_turns(candidates: dict, rounds: int, warmup: int = 1) -> Turns:
    """Time each callable `rounds` times, one call per candidate per round, after `warmup` calls.

    The garbage collector runs before each timed call (and stays on during it, as in real use),
    so one candidate does not pay for another's garbage.
    """
    for _ in range(warmup):
        for run in candidates.values():
            run()
    turns = Turns({name: [] for name in candidates})
    for _ in range(rounds):
        for name, run in candidates.items():
            turns.seconds[name].append(timed(run))
    return turns


def timed(run) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start

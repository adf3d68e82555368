"""Timing in turns: every candidate runs once per round (A B C A B C ...), after a warm-up.

Shared machines drift by up to 1.5x between minutes, so two candidates are only compared
within a round: the ratio is taken round by round and its median reported, never the ratio
of two medians measured minutes apart. A candidate may be split into parts (an epoch into
twelfths): the parts then take turns too (A1 B1 A2 B2 ...), so a burst of load from another
process lands on both candidates alike, and a round's time is the sum of its parts. The order
rotates from turn to turn (A1 B1 C1, B2 C2 A2, ...): whoever runs right after a large GEMM
starts on a flushed cache and measurably slower (about 10% for a quarter epoch at batch 128),
so no candidate may always be the one that follows it.
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
        return statistics.median(a / b for a, b in zip(self.seconds[name], self.seconds[baseline], strict=True))

    def ratio_range(self, name: str, baseline: str) -> tuple:
        ratios = [a / b for a, b in zip(self.seconds[name], self.seconds[baseline], strict=True)]
        return min(ratios), max(ratios)


def run_in_turns(candidates: dict, rounds: int, warmup: int = 1) -> Turns:
    """Time each candidate `rounds` times, once per round, after `warmup` untimed rounds.

    A candidate is a callable, or a list of callables that together make one run (its parts);
    all candidates given as lists need the same number of parts. The garbage collector runs
    before each timed call (and stays on during it, as in real use), so one candidate does not
    pay for another's garbage.
    """
    parts = {name: run if isinstance(run, list) else [run] for name, run in candidates.items()}
    names, count = list(parts), max(len(p) for p in parts.values())
    turns = Turns({name: [] for name in candidates})
    for round_index in range(warmup + rounds):
        seconds = dict.fromkeys(candidates, 0.0)
        for index in range(count):
            shift = (round_index * count + index) % len(names)
            for name in names[shift:] + names[:shift]:
                if index < len(parts[name]):
                    seconds[name] += timed(parts[name][index])
        if round_index >= warmup:
            for name, value in seconds.items():
                turns.seconds[name].append(value)
    return turns


def timed(run) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start

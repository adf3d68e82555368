"""PyTorch is optional: a benchmark-only dependency (`pip install torch==2.13.0`, the CPU build).

Without it `torch` is None and the harness skips the PyTorch columns, saying so.
"""
try:
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

TORCH_MISSING = ("PyTorch is not installed: its columns are skipped "
                 "(optional, benchmarks only: pip install torch==2.13.0, the CPU build)")

"""Benchmarks of tinygrad_np against the closed-form NumPy network and PyTorch: `python -m benchmarks`."""

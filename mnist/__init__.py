"""MNIST with an MLP built from tinygrad_np, and a hand-derived NumPy network to check it against."""

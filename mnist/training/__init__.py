"""Training runs: settings, optimizers, the loop, checkpoints and their validation, and clean stops."""

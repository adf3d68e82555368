"""After training: evaluation, metrics, the history files and the plots."""

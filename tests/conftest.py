import os

import pytest
from hypothesis import settings

# Hypothesis profiles: "ci" (the default) keeps the whole suite to about a minute on two cores;
# HYPOTHESIS_PROFILE=dev draws ten times as many examples per property.
settings.register_profile("ci", max_examples=15, deadline=None)
settings.register_profile("dev", max_examples=150, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def no_report(monkeypatch):
    """`train` without its test-set report (metrics and plots), for tests that need only the training."""
    from mnist.commands import train
    monkeypatch.setattr(train, "evaluate_and_report", lambda *args, **kwargs: None)


@pytest.fixture(scope="session")
def mnist_dataset():
    """The vendored MNIST, read once for the whole run."""
    from mnist.data.dataset import load_dataset
    return load_dataset()


@pytest.fixture
def compare_reads_mnist_once(monkeypatch, mnist_dataset):
    """`python -m mnist compare` gets the MNIST already read rather than reading it once per command."""
    from mnist.commands import compare
    monkeypatch.setattr(compare, "load_dataset", lambda: mnist_dataset)

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

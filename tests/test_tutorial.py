"""docs/tutorial.md runs top to bottom, its blocks in one namespace, as a learner runs it."""
from pathlib import Path

from test_readme import python_blocks

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def test_the_tutorial_has_its_seven_steps():
    assert len(python_blocks(TUTORIAL)) == 7


def test_the_tutorial_runs_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the run folder and pictures land here
    namespace: dict = {}
    for line, code in python_blocks(TUTORIAL):
        exec(compile("\n" * (line - 1) + code, str(TUTORIAL), "exec"), namespace)
    assert (tmp_path / "tutorial-run" / "learning_curves.png").stat().st_size > 0
    assert namespace["loss"].item() > 0

"""The Python examples of the README and docs/graph-legend.md run exactly as written, so they cannot go stale."""
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ["README.md", "docs/graph-legend.md"]
FENCED_PYTHON = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path) -> list:
    """(line number of the block's first line, code) for each ```python block of the Markdown file."""
    text = path.read_text()
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in FENCED_PYTHON.finditer(text)]


EXAMPLES = [pytest.param(document, line, code, id=f"{document}:{line}")
            for document in DOCUMENTS for line, code in python_blocks(ROOT / document)]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_each_document_has_python_examples(document):
    # A fence the pattern stopped matching would otherwise turn the test below into no test at all.
    assert len(python_blocks(ROOT / document)) >= 1


def test_python_blocks_are_found_with_their_line_numbers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\nx = 1\n```\n\n```sh\nls\n```\n```python\ny = 2\nz = 3\n```\n")
    assert python_blocks(page) == [(3, "x = 1\n"), (10, "y = 2\nz = 3\n")]


@pytest.mark.parametrize("document, line, code", EXAMPLES)
def test_example_runs(document, line, code, tmp_path, monkeypatch):
    if ("viz.save(" in code or "viz.save_walk(" in code) and shutil.which("dot") is None:
        pytest.skip("the example renders through Graphviz's dot, which is not installed")
    monkeypatch.chdir(tmp_path)  # whatever the example writes lands here
    # Padded with blank lines, so a traceback names the README's own line numbers.
    exec(compile("\n" * (line - 1) + code, str(ROOT / document), "exec"), {"__name__": "__readme__"})

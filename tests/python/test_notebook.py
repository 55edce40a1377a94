"""The example notebooks run headless from top to bottom without an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def test_quickstart_runs_headless():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "identical bits: True" in text
    assert "refused: dt = 0.3 is unstable" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, "the two field plots"


def test_nbconvert_executes_the_notebook(tmp_path):
    """The way a user runs it: `jupyter nbconvert --execute`, from the project's environment."""
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        pytest.skip(f"no jupyter beside {sys.executable}")
    out = tmp_path / "executed.ipynb"
    subprocess.run([str(jupyter), "nbconvert", "--execute", "--to", "notebook",
                    "--ExecutePreprocessor.timeout=120", "--output", str(out), str(NOTEBOOK)],
                   check=True, cwd=NOTEBOOK.parent, capture_output=True)
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors


def test_variable_alpha_notebook_runs_headless():
    path = NOTEBOOK.parent / "variable_alpha.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "refused: diffusivity is 0 at cell (20, 10)" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 1

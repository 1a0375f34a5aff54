"""The quickstart notebook runs end to end, and the README's test command is what CI runs."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]


def test_quickstart_notebook_runs(tmp_path):
    notebook = nbformat.read(ROOT / "docs" / "quickstart.ipynb", as_version=4)
    # Run inside a copy of docs/ so outputs (mp4, saved folders) land in tmp_path.
    work = tmp_path / "docs"
    work.mkdir()
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # No warning a reader cannot act on (tqdm's "IProgress not found", diffusers' notes on our own backends).
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "Warning" not in stderr and "experimental" not in stderr, stderr
    assert (work / "quickstart_t2v.mp4").stat().st_size > 0


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in text.split("```bash\n")[1:]]
    return blocks[0], blocks[1]


def test_ci_runs_the_readme_test_command():
    _, test_command = _readme_commands()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_main_command_uses_the_cli():
    main_command, _ = _readme_commands()
    assert "ltx-video generate" in main_command

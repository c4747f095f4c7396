"""A repository for batches: the sample project, three specs and fake contestants of known
quality (good: correct, bad: wrong, idle: changes nothing; hang: never ends), its scenarios in
racer.toml so that a clone on a worker plays them the same."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.repos import CORRECT, PROJECT, WRONG, make_repo

SCENARIOS: dict[str, object] = {
    "good": {"write": {"calc.py": CORRECT}, "say": "fixed", "cost_usd": 0.01},
    "bad": {"write": {"calc.py": WRONG}, "say": "fixed too", "cost_usd": 0.02},
    "idle": {"say": "nothing to do"},
    "hang": {"hang": True},
    "slow": {"sleep": 6, "write": {"calc.py": CORRECT}},
}


def batch_files(n_specs: int = 3, extra_toml: str = "") -> dict[str, str]:
    files = {k: v for k, v in PROJECT.items() if not k.startswith("specs/")}
    files["racer.toml"] = (
        'test = "python -m pytest -q"\nbaseline_runs = 1\n' + extra_toml + "\n[agents.fake]\n"
        f"env = {{ RACER_FAKE = {json.dumps(json.dumps(SCENARIOS))} }}\n"
    )
    for i in range(n_specs):
        name = chr(ord("a") + i) if n_specs <= 26 else f"s{i:02d}"
        files[f"specs/{name}.md"] = (
            f"---\ntitle: Spec {name}\n---\nMake `double(x)` return twice `x` ({name}).\n"
        )
    return files


HIDDEN = "from calc import double\n\n\ndef test_negative():\n    assert double(-4) == -8\n"


def make_batch_repo(root: Path, n_specs: int = 3, extra_toml: str = "") -> Path:
    """The repository; spec c (when there is one) also has a hidden acceptance test, kept
    outside the repository (`<root>/../hidden/`) as a user would."""
    files = batch_files(n_specs, extra_toml)
    if "specs/c.md" in files:
        hidden = root.parent / "hidden" / "test_double_hidden.py"
        hidden.parent.mkdir(parents=True, exist_ok=True)
        hidden.write_text(HIDDEN, encoding="utf-8")
        files["specs/c.md"] = files["specs/c.md"].replace(
            "title: Spec c\n", "title: Spec c\nacceptance: ../../hidden/test_double_hidden.py\n"
        )
    return make_repo(root, files)

"""The fake agent's program (`python -m racer.agents.fake_cli`): plays one scripted scenario.

Kept apart from the adapter so running it does not re-import a module the package already loaded.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from racer.agents.fake import SCENARIO_KEYS


def load_scenarios(raw: str, cwd: Path) -> dict[str, Any]:
    raw = raw.strip()
    if not raw:
        return {}
    text = raw if raw.startswith("{") else (cwd / raw).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("RACER_FAKE must be a JSON object of scenarios")
    return data


def _write(path: Path, content: str, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, encoding="utf-8") as fh:
        fh.write(content)


def label_of(prompt: str, needle: str) -> str:
    """The label of the reviewed diff ("## Candidate B") whose text holds `needle`."""
    sections = re.split(r"^## Candidate ([A-Z])$", prompt, flags=re.M)
    for label, body in zip(sections[1::2], sections[2::2], strict=False):
        if needle in body:
            return label
    return "?"


_FENCED_JSON = re.compile(r"```json\n(.*?)\n```", re.S)


def _without_unseen(say: str) -> str:
    """A scripted review without its findings about diffs it was not shown (`label_of` found
    no label: a race of fewer contestants than the script was written for)."""
    fenced = _FENCED_JSON.search(say)
    if fenced is None:
        return say
    try:
        review = json.loads(fenced.group(1))
    except json.JSONDecodeError:
        return say
    if not isinstance(review, dict) or not isinstance(review.get("findings"), list):
        return say
    kept = [
        f for f in review["findings"] if not (isinstance(f, dict) and f.get("candidate") == "?")
    ]
    if len(kept) == len(review["findings"]):
        return say
    text = json.dumps({**review, "findings": kept}, indent=1)
    return say[: fenced.start(1)] + text + say[fenced.end(1) :]


def play(scenario: dict[str, Any], cwd: Path, prompt: str = "") -> int:
    """Carry out one scenario in cwd; returns the exit code.

    As a reviewer, `label_of` ({"@P@": "text in P's diff"}) puts the label racer gave that
    diff into what it says: labels are blind, so a script cannot know them in advance. A
    finding whose diff it was not shown ("?") is left out of its JSON."""
    unknown = set(scenario) - SCENARIO_KEYS
    if unknown:
        print(f"fake: unknown scenario keys {sorted(unknown)}", file=sys.stderr)
        return 2
    if scenario.get("fail_times"):
        # Fail (with `error`) the first N runs, then carry on: a flaky API, for retry tests.
        counter = Path(scenario["counter_file"])
        runs = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(runs + 1))
        if runs < int(scenario["fail_times"]):
            print(
                json.dumps(
                    {"type": "result", "result": "", "error": scenario.get("error", "failed")}
                )
            )
            return int(scenario.get("exit", 1)) or 1
        scenario = {k: v for k, v in scenario.items() if k not in ("error", "exit")}
    elif scenario.get("error"):
        print(json.dumps({"type": "result", "result": "", "error": scenario["error"]}), flush=True)
        return int(scenario.get("exit", 1)) or 1
    for line in scenario.get("print", []):
        print(line, flush=True)
    for command in scenario.get("run", []):  # shell commands, output to the agent's log
        sys.stdout.flush()
        subprocess.run(["/bin/sh", "-c", command], cwd=cwd, check=False)
    for usd, pause in scenario.get("spend", []):  # usage events while it works
        print(json.dumps({"type": "cost", "usd": usd}), flush=True)
        time.sleep(float(pause))
    if scenario.get("sleep"):
        time.sleep(float(scenario["sleep"]))
    for rel, content in scenario.get("write", {}).items():
        print(f"Write {rel}", flush=True)
        _write(cwd / rel, content, "w")
    for rel, content in scenario.get("append", {}).items():
        print(f"Edit {rel}", flush=True)
        _write(cwd / rel, content, "a")
    for rel in scenario.get("delete", []):
        print(f"Delete {rel}", flush=True)
        (cwd / rel).unlink()
    if scenario.get("patch"):
        subprocess.run(
            ["git", "apply", "-"], input=scenario["patch"], text=True, cwd=cwd, check=True
        )
    if scenario.get("hang"):
        if scenario.get("ignore_term"):
            import signal

            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen(  # a grandchild in our process group: the timeout must kill it too
            [
                sys.executable,
                "-c",
                "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)",
            ]
        )
        print(f"hanging (child pid {child.pid})", flush=True)
        time.sleep(3600)
    say = str(scenario.get("say", "done"))
    for placeholder, needle in scenario.get("label_of", {}).items():
        say = say.replace(placeholder, label_of(prompt, needle))
    if scenario.get("label_of"):
        say = _without_unseen(say)
    result: dict[str, Any] = {"type": "result", "result": say}
    if "tokens" in scenario:
        result["usage"] = scenario["tokens"]
    if "cost_usd" in scenario:
        result["cost_usd"] = scenario["cost_usd"]
    code = int(scenario.get("exit", 0))
    if code:
        result["error"] = f"fake agent exited {code}"
    print(json.dumps(result), flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--version" in args:
        print("racer-fake 1")
        return 0
    scenario_name = "default"
    if "--scenario" in args:
        scenario_name = args[args.index("--scenario") + 1]
    cwd = Path.cwd()
    try:
        scenarios = load_scenarios(os.environ.get("RACER_FAKE", ""), cwd)
    except (OSError, ValueError) as exc:
        print(f"fake: cannot read RACER_FAKE: {exc}", file=sys.stderr)
        return 2
    scenario = scenarios.get(scenario_name)
    if scenario is None:
        if scenarios:
            print(
                f"fake: no scenario {scenario_name!r} (have {sorted(scenarios)})", file=sys.stderr
            )
            return 2
        scenario = {"say": "nothing to do (RACER_FAKE is not set)"}
    prompt = ""
    if "--prompt-file" in args:
        try:
            prompt = Path(args[args.index("--prompt-file") + 1]).read_text(encoding="utf-8")
        except (OSError, IndexError):
            prompt = ""
    return play(scenario, cwd, prompt)


if __name__ == "__main__":
    sys.exit(main())

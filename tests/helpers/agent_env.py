"""How to point each real agent CLI at a loopback model server with a scratch home.

`agent_setup` returns the environment and the extra CLI arguments a racer user would configure;
the headless flags themselves are racer's adapters' job (see each branch's comment).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # tests/helpers/ -> the repository root
AGENT_BIN = REPO / ".agents" / "bin"


# codex refuses to put its helper binaries under the temp dir, and then every sandboxed command
# fails while codex still exits 0: its home must live outside /tmp.
def _not_under_tmp(*candidates: Path) -> Path:
    tmp_dirs = {Path(tempfile.gettempdir()).resolve(), Path("/tmp").resolve()}
    for path in candidates:
        if not any(path.resolve().is_relative_to(t) for t in tmp_dirs):
            return path
    raise RuntimeError("no directory outside /tmp for CODEX_HOME")


# A clone under /tmp (as a CI checkout may be) must still give codex a home outside it.
CODEX_HOMES = _not_under_tmp(
    REPO / ".agents" / "codex-homes",
    Path.home() / ".cache" / "racer-codex-homes",
    Path("/var/tmp/racer-codex-homes"),
)

AGENTS = ("claude", "codex", "gemini", "qwen", "opencode", "aider")
# Two more, whose command lines the tests take from racer's own adapters.
BYOK_AGENTS = ("copilot", "kilo")
# A model each CLI knows (so codex offers apply_patch, claude prices it) and the fake accepts.
DEFAULT_MODELS = {
    "claude": "claude-sonnet-4-5",
    "codex": "gpt-5.5",
    "gemini": "gemini-2.5-pro",
    "qwen": "qwen3-coder-plus",
    "opencode": "claude-sonnet-4-5",
    "aider": "racer-fake-model",
    "copilot": "gpt-4.1",  # in racer's price table: the estimate is checkable
    "kilo": "racer-fake-model",  # a model of the provider the setup below defines
}
# What the kilo setup prices its model at (USD per million tokens), so kilo reports a cost.
KILO_PRICE = {"input": 1.25, "output": 10.0}
DUMMY_KEY = "racer-fake-key"


def cli_path(name: str) -> str | None:
    """The pinned install in .agents/bin first, else whatever is on PATH."""
    local = AGENT_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _under_tmp(path: Path) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(Path(t).resolve()) for t in {tempfile.gettempdir(), "/tmp"})


def codex_home_for(home: Path) -> Path:
    """`home/.codex`, or a fresh dir under .agents/codex-homes when home is under /tmp.

    The caller removes the latter when done (its path is the CODEX_HOME in the returned env).
    """
    if not _under_tmp(home):
        path = home / ".codex"
        path.mkdir(parents=True, exist_ok=True)
        return path
    CODEX_HOMES.mkdir(parents=True, exist_ok=True)
    path = CODEX_HOMES / uuid.uuid4().hex[:12]
    path.mkdir()
    return path


def _aider_site_packages() -> Path | None:
    exe = cli_path("aider")
    if exe is None:
        return None
    venv = Path(exe).resolve().parent.parent
    return next(iter(sorted(venv.glob("lib/python3*/site-packages"))), None)


def agent_setup(
    name: str, base_url: str, home: Path, *, model: str | None = None
) -> tuple[dict[str, str], list[str]]:
    """(env additions, extra args) that make CLI `name` talk to `base_url` from `home`.

    `base_url` is the server root for one scenario (e.g. `FakeModelServer.base("s1")`), without
    any `/v1`: each branch appends what its SDK expects. Every branch sets HOME, a dummy key and
    the phone-home suppression that AGENT-CLIS.md verified.
    """
    home.mkdir(parents=True, exist_ok=True)
    model = model or DEFAULT_MODELS.get(name, "racer-fake-model")
    env: dict[str, str] = {"HOME": str(home)}
    args: list[str] = []

    if name == "claude":
        # User supplies: ANTHROPIC_BASE_URL + key (or their login), and the phone-home opt-outs.
        # racer adds: -p --output-format stream-json --verbose --permission-mode
        # bypassPermissions --no-session-persistence --model M, and IS_SANDBOX=1 as root.
        env |= {
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": DUMMY_KEY,
            "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            # Fail fast on 429/5xx instead of retrying with backoff (a user's choice).
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }
    elif name == "codex":
        # User supplies: the provider table (base_url, env_key, wire_api, retry counts) and the
        # phone-home opt-outs, as `-c` overrides (or the same keys in $CODEX_HOME/config.toml),
        # plus CODEX_HOME outside /tmp and the key variable the provider names.
        # racer adds: exec --json --skip-git-repo-check --ephemeral, the sandbox flag,
        # --disable unbounded_connection_retries, -m M, the prompt (stdin /dev/null).
        codex_home = codex_home_for(home)
        env |= {"CODEX_HOME": str(codex_home), "RACER_FAKE_API_KEY": DUMMY_KEY}
        provider = (
            '{name="racer fake",base_url="' + base_url + '/v1",env_key="RACER_FAKE_API_KEY",'
            'wire_api="responses",request_max_retries=0,stream_max_retries=0}'
        )
        args += [
            "-c",
            "model_provider=racerfake",
            "-c",
            f"model_providers.racerfake={provider}",
            "-c",
            "analytics.enabled=false",
            "-c",
            "feedback.enabled=false",
            "-c",
            "check_for_update_on_startup=false",
            "-c",
            "features.plugins=false",
        ]
    elif name == "gemini":
        # User supplies: GEMINI_API_KEY + GOOGLE_GEMINI_BASE_URL and ~/.gemini/settings.json
        # selecting the "gemini-api-key" auth type (with only the base-URL variable set, 0.61
        # infers auth type "gateway" and exits 41; no environment variable overrides that in
        # headless mode), plus the opt-outs and maxAttempts.
        # racer adds: -p --approval-mode yolo --output-format stream-json -m M, and
        # GEMINI_CLI_TRUST_WORKSPACE=true.
        env |= {
            "GEMINI_API_KEY": DUMMY_KEY,
            "GOOGLE_GEMINI_BASE_URL": base_url,
            "GEMINI_TELEMETRY_ENABLED": "false",
        }
        _write_json(
            home / ".gemini" / "settings.json",
            {
                "security": {"auth": {"selectedType": "gemini-api-key"}},
                "privacy": {"usageStatisticsEnabled": False},
                "telemetry": {"enabled": False},
                "general": {
                    "enableAutoUpdate": False,
                    "enableAutoUpdateNotification": False,
                    # The default is 10 attempts with backoff (~3.5 min on a 500).
                    "maxAttempts": 1,
                },
            },
        )
    elif name == "qwen":
        # User supplies: OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_MODEL (or their own
        # ~/.qwen/settings.json) and the opt-outs. Folder trust is off by default in 0.15.10.
        # racer adds: -p --yolo --output-format json --auth-type openai -m M.
        env |= {
            "OPENAI_API_KEY": DUMMY_KEY,
            "OPENAI_BASE_URL": f"{base_url}/v1",
            "OPENAI_MODEL": model,
            "QWEN_CODE_DISABLE_PRECONNECT": "1",
        }
        _write_json(
            home / ".qwen" / "settings.json",
            {
                "security": {"auth": {"selectedType": "openai"}, "folderTrust": {"enabled": False}},
                "privacy": {"usageStatisticsEnabled": False},
                "telemetry": {"enabled": False},
                "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
            },
        )
    elif name == "opencode":
        # User supplies: the provider's baseURL and key in their opencode config (here the
        # XDG config file), XDG dirs, and the opt-outs.
        # racer adds: run --format json -m PROVIDER/M --pure, and approvals for a headless run:
        # `--auto` exists in 1.18.33 (or `permission` in OPENCODE_CONFIG_CONTENT).
        xdg = {
            "XDG_CONFIG_HOME": home / ".config",
            "XDG_DATA_HOME": home / ".local" / "share",
            "XDG_CACHE_HOME": home / ".cache",
            "XDG_STATE_HOME": home / ".local" / "state",
        }
        for path in xdg.values():
            path.mkdir(parents=True, exist_ok=True)
        env |= {key: str(path) for key, path in xdg.items()}
        env |= {
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
            "OPENCODE_DISABLE_SHARE": "1",
        }
        config_dir = xdg["XDG_CONFIG_HOME"] / "opencode"
        # opencode 1.18 npm-installs @opencode-ai/plugin into every config dir in the background
        # (registry.npmjs.org), whatever the flags. It skips that when node_modules exists and
        # the lock file already lists the package: seed both.
        (config_dir / "node_modules").mkdir(parents=True, exist_ok=True)
        _write_json(
            config_dir / "package-lock.json",
            {"packages": {"": {"dependencies": {"@opencode-ai/plugin": "*"}}}},
        )
        _write_json(
            config_dir / "opencode.json",
            {
                "$schema": "https://opencode.ai/config.json",
                "provider": {
                    "anthropic": {"options": {"baseURL": f"{base_url}/v1", "apiKey": DUMMY_KEY}}
                },
                "autoupdate": False,
                "share": "disabled",
            },
        )
    elif name == "aider":
        # User supplies: OPENAI_API_KEY / OPENAI_API_BASE, a model metadata file for a model
        # litellm does not know (context size, prices), and an offline price cache.
        # racer adds: --model openai/M --message PROMPT --yes-always --no-auto-commits
        # --no-gitignore --no-check-update --no-show-release-notes --analytics-disable
        # --no-pretty --no-stream --no-show-model-warnings --map-tokens 0 --edit-format whole.
        env |= {
            "OPENAI_API_KEY": DUMMY_KEY,
            "OPENAI_API_BASE": f"{base_url}/v1",
            # litellm fetches its price map from GitHub at import unless told not to.
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        caches = home / ".aider" / "caches"
        caches.mkdir(parents=True, exist_ok=True)
        site = _aider_site_packages()
        bundled = site / "litellm" / "model_prices_and_context_window_backup.json" if site else None
        target = caches / "model_prices_and_context_window.json"
        if bundled is not None and bundled.is_file():
            shutil.copyfile(bundled, target)  # fresh mtime: aider trusts it for 24 h
        else:
            target.write_text("{}", encoding="utf-8")
        metadata = home / ".aider.model.metadata.json"
        _write_json(
            metadata,
            {
                f"openai/{model}": {
                    "max_tokens": 8192,
                    "max_input_tokens": 128000,
                    "max_output_tokens": 8192,
                    "input_cost_per_token": 0.00000125,
                    "output_cost_per_token": 0.00001,
                    "litellm_provider": "openai",
                    "mode": "chat",
                }
            },
        )
        args += ["--model-metadata-file", str(metadata)]
    elif name in BYOK_AGENTS:
        env |= _byok_setup(name, base_url, home, model)
    else:
        raise ValueError(f"unknown agent {name!r} (known: {', '.join(AGENTS + BYOK_AGENTS)})")
    return env, args


def _byok_setup(name: str, base_url: str, home: Path, model: str) -> dict[str, str]:
    """copilot and kilo with a model provider of the user's own (OpenAI Chat Completions)."""
    if name == "copilot":
        # User supplies: the BYOK variables (no GitHub login then) and a model, which BYOK
        # requires (COPILOT_MODEL or racer's --model from the contestant's @model).
        # COPILOT_OFFLINE=true: no GitHub auth, telemetry or update checks.
        # racer adds: sh -c (prints --usage-output-file) copilot -p PROMPT --allow-all-tools
        # --no-ask-user --no-auto-update --output-format json [--model M].
        # Copilot retries 401 twice and 429/5xx five times with its own backoff; no setting
        # turns that off.
        return {
            "COPILOT_OFFLINE": "true",
            "COPILOT_PROVIDER_BASE_URL": f"{base_url}/v1",
            "COPILOT_PROVIDER_TYPE": "openai",
            # Copilot masks a key's value wherever it appears in its output: a one-letter key
            # would mangle every event name holding that letter.
            "COPILOT_PROVIDER_API_KEY": DUMMY_KEY,
            "COPILOT_MODEL": model,
        }
    # kilo. User supplies: a provider in their kilo config (here the XDG config file) with its
    # baseURL, key, models and prices, XDG dirs, the opt-outs, and (a test's choice) one retry.
    # racer adds: run --format json --auto [-m PROVIDER/M] PROMPT, and merges the permissions
    # into KILO_CONFIG_CONTENT plus KILO_DISABLE_AUTOUPDATE=1.
    xdg = {
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_STATE_HOME": home / ".local" / "state",
    }
    for path in xdg.values():
        path.mkdir(parents=True, exist_ok=True)
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "racer fake",
        "options": {"baseURL": f"{base_url}/v1", "apiKey": DUMMY_KEY},
        "models": {model: {"name": model, "cost": KILO_PRICE}},
    }
    _write_json(
        xdg["XDG_CONFIG_HOME"] / "kilo" / "kilo.json",
        {
            "provider": {"racer": provider},
            "model": f"racer/{model}",  # without -m kilo would pick a Kilo Gateway model
            "autoupdate": False,
            "share": "disabled",
        },
    )
    return {
        **{key: str(path) for key, path in xdg.items()},
        "KILO_TELEMETRY_LEVEL": "off",
        "KILO_DISABLE_MODELS_FETCH": "1",
        "KILO_DISABLE_CODEBASE_INDEXING": "1",
        "KILO_DISABLE_LSP_DOWNLOAD": "1",
        "KILO_DISABLE_SHARE": "1",
        "KILO_NO_DAEMON": "1",
        # Kilo retries 5xx five times over ~75 s (429 as often as Retry-After allows); 0 is
        # ignored, 1 means one retry.
        "KILO_SESSION_RETRY_LIMIT": "1",
    }

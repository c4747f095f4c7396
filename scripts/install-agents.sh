#!/usr/bin/env bash
# Install the pinned agent CLIs into .agents/ (git-ignored), never globally:
#   .agents/node_modules/.bin/{claude,codex,gemini,qwen,opencode,copilot,kilo}   (npm)
#   .agents/aider-venv/bin/aider                                     (pip, its own venv)
#   .agents/bin/<name>                                               (symlinks to the above)
# plus Debian's bubblewrap (codex's workspace-write sandbox) when run as root with apt-get.
# Re-running is cheap: it reinstalls only what is missing or not at the pinned version
# (RACER_REINSTALL_AGENTS=1 forces it). Put them on PATH with:  export PATH="$PWD/.agents/bin:$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.agents"
mkdir -p "$root/bin"

# The pinned versions and packages live in racer/agents/pins.py, which racer's install hints
# read too: PIN[name]=version and PKG[name]=package, one pair per CLI.
declare -A PIN PKG
eval "$(python3 racer/agents/pins.py)"
NPM_CLIS=(claude codex gemini qwen opencode copilot kilo)

# The version line of one installed CLI, run with a throwaway HOME so nothing lands in ours
# (not under /tmp: codex warns about helper binaries there).
version_of() {
  local scratch out
  scratch="$(mktemp -d "$root/.version-home.XXXXXX")"
  out="$(HOME="$scratch" CODEX_HOME="$scratch" timeout 60 "$1" --version 2>/dev/null < /dev/null \
    | grep -m 1 -E '[0-9]+\.[0-9]+\.[0-9]+')" || true
  rm -rf "$scratch"
  printf '%s' "$out"
}

pinned() {  # pinned NAME EXE: the executable exists and reports the pinned version
  [ -x "$2" ] && [[ "$(version_of "$2")" == *"${PIN[$1]}"* ]]
}

npm_ok=1
for exe in "${NPM_CLIS[@]}"; do
  pinned "$exe" "$root/node_modules/.bin/$exe" || npm_ok=0
done
if [ "$npm_ok" = 0 ] || [ "${RACER_REINSTALL_AGENTS:-}" = 1 ]; then
  [ -f "$root/package.json" ] || echo '{"name": "racer-agents", "private": true}' > "$root/package.json"
  # Pinned on purpose (pins.py says why). copilot and kilo take their native binaries from
  # per-platform optional packages (@github/copilot-linux-x64, @kilocode/cli-linux-x64) that
  # npm fetches from the registry like any other: no download from elsewhere at postinstall.
  specs=()
  for exe in "${NPM_CLIS[@]}"; do specs+=("${PKG[$exe]}@${PIN[$exe]}"); done
  npm install --prefix "$root" --no-audit --no-fund --loglevel=error "${specs[@]}"
  # npm 11 skips Claude Code's postinstall, which puts the native binary in place.
  (cd "$root/node_modules/@anthropic-ai/claude-code" && node install.cjs)
  # opencode's postinstall may be skipped the same way.
  if [ -f "$root/node_modules/opencode-ai/postinstall.mjs" ]; then
    (cd "$root/node_modules/opencode-ai" && node postinstall.mjs) || true
  fi
fi

if ! pinned aider "$root/aider-venv/bin/aider" || [ "${RACER_REINSTALL_AGENTS:-}" = 1 ]; then
  rm -rf "$root/aider-venv"
  python3 -m venv "$root/aider-venv"
  "$root/aider-venv/bin/pip" install --quiet --disable-pip-version-check "${PKG[aider]}==${PIN[aider]}"
fi

for exe in "${NPM_CLIS[@]}"; do
  ln -sfn "../node_modules/.bin/$exe" "$root/bin/$exe"
done
ln -sfn ../aider-venv/bin/aider "$root/bin/aider"

# codex runs its workspace-write sandbox under bubblewrap (not bundled in the npm package);
# without it racer falls back to --dangerously-bypass-approvals-and-sandbox. Best effort.
if ! command -v bwrap > /dev/null && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq bubblewrap > /dev/null 2>&1 \
    || { apt-get update -qq > /dev/null 2>&1 && apt-get install -y -qq bubblewrap > /dev/null 2>&1; } \
    || echo "warning: could not install bubblewrap; codex will run without its sandbox" >&2
fi

status=0
for exe in "${NPM_CLIS[@]}" aider; do
  line="$(version_of "$root/bin/$exe")"
  printf '%-9s %s\n' "$exe" "$line"
  if [[ "$line" != *"${PIN[$exe]}"* ]]; then
    echo "error: $exe is not at the pinned version ${PIN[$exe]}" >&2
    status=1
  fi
done
printf '%-9s %s\n' bwrap "$(command -v bwrap || echo 'not installed')"
exit "$status"

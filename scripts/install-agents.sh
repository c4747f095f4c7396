#!/usr/bin/env bash
# Install the pinned agent CLIs into .agents/ (git-ignored), never globally:
#   .agents/node_modules/.bin/{claude,codex,gemini,qwen,opencode}   (npm)
#   .agents/aider-venv/bin/aider                                     (pip, its own venv)
# Put them on PATH with:  export PATH="$PWD/.agents/bin:$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.agents"
mkdir -p "$root/bin"

CLAUDE=2.1.329 CODEX=0.169.0 GEMINI=0.61.0 QWEN=0.15.10 OPENCODE=1.18.33 AIDER=0.86.2

if [ ! -x "$root/node_modules/.bin/opencode" ] || [ "${RACER_REINSTALL_AGENTS:-}" = 1 ]; then
  [ -f "$root/package.json" ] || echo '{"name": "racer-agents", "private": true}' > "$root/package.json"
  npm install --prefix "$root" --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-code@$CLAUDE" "@openai/codex@$CODEX" "@google/gemini-cli@$GEMINI" \
    "@qwen-code/qwen-code@$QWEN" "opencode-ai@$OPENCODE"
  # npm 11 skips Claude Code's postinstall, which puts the native binary in place.
  (cd "$root/node_modules/@anthropic-ai/claude-code" && node install.cjs)
  # opencode's postinstall may be skipped the same way.
  if [ -f "$root/node_modules/opencode-ai/postinstall.mjs" ]; then
    (cd "$root/node_modules/opencode-ai" && node postinstall.mjs) || true
  fi
fi
if [ ! -x "$root/aider-venv/bin/aider" ]; then
  python3 -m venv "$root/aider-venv"
  "$root/aider-venv/bin/pip" install --quiet --disable-pip-version-check "aider-chat==$AIDER"
fi
for exe in claude codex gemini qwen opencode; do
  ln -sf "../node_modules/.bin/$exe" "$root/bin/$exe"
done
ln -sf ../aider-venv/bin/aider "$root/bin/aider"
for exe in claude codex gemini qwen opencode aider; do
  printf '%-9s %s\n' "$exe" "$("$root/bin/$exe" --version 2>&1 | head -n 1)"
done

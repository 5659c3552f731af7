#!/usr/bin/env bash
# Install the pinned Claude Code client into a cache folder and print the path of its binary.
# Idempotent: a cache that already holds this version is left alone.
# Folder: $CLAUDE_SESSION_CLAUDE_DIR, else $HOME/.cache/claude-session/claude-code.
set -euo pipefail

version="${CLAUDE_CODE_VERSION:-2.1.197}"
dir="${CLAUDE_SESSION_CLAUDE_DIR:-$HOME/.cache/claude-session/claude-code}"
package_json="$dir/node_modules/@anthropic-ai/claude-code/package.json"
bin="$dir/node_modules/.bin/claude"

installed_version() {
    [ -f "$package_json" ] || return 0
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$package_json" 2>/dev/null || true
}

if [ "$(installed_version)" != "$version" ] || [ ! -x "$bin" ]; then
    command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 1; }
    mkdir -p "$dir"
    # Logs to stderr so stdout carries only the binary's path.
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
        "@anthropic-ai/claude-code@$version" >&2
fi

"$bin" --version >/dev/null || { echo "claude at $bin does not run" >&2; exit 1; }
echo "$bin"

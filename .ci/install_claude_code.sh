#!/usr/bin/env bash
# Install the Claude Code clients the tests drive, each into its own cache folder, and print the
# path of each binary, one a line. Idempotent: a folder that already holds its version is left alone.
# Versions: the arguments, else the support window (oldest and newest; tests/helpers/claude_code.py
# WINDOW and the README say the same). Folder: ${CLAUDE_SESSION_CLAUDE_DIR:-$HOME/.cache/claude-session}/claude-code-<version>.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    set -- 2.1.197 2.1.332
fi
base="${CLAUDE_SESSION_CLAUDE_DIR:-$HOME/.cache/claude-session}"

installed_version() {
    [ -f "$1" ] || return 0
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$1" 2>/dev/null || true
}

for version in "$@"; do
    dir="$base/claude-code-$version"
    package_json="$dir/node_modules/@anthropic-ai/claude-code/package.json"
    bin="$dir/node_modules/.bin/claude"
    if [ "$(installed_version "$package_json")" != "$version" ] || [ ! -x "$bin" ]; then
        command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 1; }
        mkdir -p "$dir"
        # Logs to stderr so stdout carries only the binaries' paths.
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
            "@anthropic-ai/claude-code@$version" >&2
    fi
    "$bin" --version >/dev/null || { echo "claude $version at $bin does not run" >&2; exit 1; }
    echo "$bin"
done

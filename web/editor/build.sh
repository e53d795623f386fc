#!/usr/bin/env bash
# Rebuilds static/editor/ from web/editor/src. Needs node and `npm ci` at the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d node_modules/esbuild ] || npm ci --no-audit --no-fund
node web/editor/build.mjs "$@"

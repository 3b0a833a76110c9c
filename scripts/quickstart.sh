#!/usr/bin/env bash
# The README's first command (`npm start`): dependencies, the whole stack, the five services,
# and a first sync with a visible result (`mw demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules ]]; then
  printf '==> npm install (locked versions)\n' >&2
  npm install --no-audit --no-fund
fi
exec node tools/bin/mw.cjs demo

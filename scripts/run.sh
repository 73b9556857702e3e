#!/usr/bin/env bash
# The README's two commands land here:
#   npm run demo   install, build, and a real encrypt → inspect → decrypt round trip with the CLI
#   npm test       install, lint, build, type-check and every test
#   npm run emulators -- [options]   install, build, and run kms-envelope-emulators
# Needs only Node (≥ 20) and npm: pnpm is installed into .tools/ on first use,
# and Node 24 LTS comes from the npm registry as a pinned devDependency.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 NPM_CONFIG_UPDATE_NOTIFIER=false

pnpm_bin() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    echo pnpm
    return
  fi
  local local_pnpm=.tools/node_modules/.bin/pnpm
  if [ ! -x "$local_pnpm" ] || [ "$("$local_pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    echo "› installing pnpm $PNPM_VERSION into .tools/" >&2
    npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >&2
  fi
  echo "$local_pnpm"
}

PNPM=$(pnpm_bin)
# turbo looks pnpm up on PATH to run each task.
case "$PNPM" in */*) PNPM="$PWD/$PNPM"; export PATH="$(dirname "$PNPM"):$PATH" ;; esac

install() {
  echo "› installing dependencies (pnpm $PNPM_VERSION; tasks run on Node 24 from the npm registry)"
  if [ "${CI:-}" = "true" ]; then "$PNPM" install --frozen-lockfile; else "$PNPM" install --frozen-lockfile --reporter=silent; fi
}

summarize() {
  # Adds up every vitest summary turbo printed into one closing line.
  node -e '
    const text = require("fs").readFileSync(process.argv[1], "utf8").replace(/\x1b\[[0-9;]*m/g, "");
    let passed = 0, failed = 0, skipped = 0;
    for (const line of text.split("\n")) {
      const m = /^\S*\s*Tests\s+(.*)\((\d+)\)\s*$/.exec(line.trim().replace(/^[^:]*:\s*/, "").replace(/^.*?Tests/, "Tests"));
      if (!m) continue;
      passed += Number(/(\d+) passed/.exec(m[1])?.[1] ?? 0);
      failed += Number(/(\d+) failed/.exec(m[1])?.[1] ?? 0);
      skipped += Number(/(\d+) skipped/.exec(m[1])?.[1] ?? 0);
    }
    console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  ' "$1"
}

case "${1:-}" in
  demo)
    install
    echo "› building"
    "$PNPM" exec turbo run build --filter=@kms-envelope/cli... --output-logs=errors-only
    "$PNPM" exec bash scripts/demo.sh
    ;;
  test)
    install
    echo "› lint and format check (Biome)"
    "$PNPM" exec biome ci --colors=off --max-diagnostics=30 .
    echo "› build, type-check, test"
    log=$(mktemp)
    status=0
    "$PNPM" exec turbo run build typecheck test --continue --output-logs=new-only 2>&1 | tee "$log" || status=$?
    summarize "$log"
    rm -f "$log"
    echo "› packages: pnpm pack, publint (strict), LICENSE, no source maps, registry metadata"
    "$PNPM" exec node scripts/check-packages.mjs || status=$?
    exit "$status"
    ;;
  emulators)
    install
    echo "› building the emulators and the CLI with its providers" >&2
    "$PNPM" exec turbo run build --filter=@kms-envelope/emulators --filter=@kms-envelope/cli... --output-logs=errors-only >&2
    shift
    exec "$PNPM" exec node packages/emulators/dist/bin/kms-envelope-emulators.js "$@"
    ;;
  *)
    echo "usage: scripts/run.sh demo|test|emulators [emulators options]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# The main job: a real encrypt → inspect → decrypt round trip with the CLI on a fresh local keystore.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/kms-envelope-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KMS_ENVELOPE_KEYSTORE="$work/keystore.json"
cli() { node packages/cli/dist/bin.js "$@"; }
step() { printf '\n\033[1m$ kms-envelope %s\033[0m\n' "$*"; }

echo "Node $(node --version); keystore $KMS_ENVELOPE_KEYSTORE"
printf 'Quarterly numbers: revenue 4.2M, margin 31%%.\n' >"$work/report.txt"

step keys create demo
cli keys create demo
step keys rotate demo
cli keys rotate demo
step encrypt --key local://demo --context team=finance -i report.txt -o report.kmse
cli encrypt --key local://demo --context team=finance -i "$work/report.txt" -o "$work/report.kmse"
step inspect -i report.kmse
cli inspect -i "$work/report.kmse"
step decrypt --key local://demo --expect-context team=finance -i report.kmse -o report.out.txt
cli decrypt --key local://demo --expect-context team=finance -i "$work/report.kmse" -o "$work/report.out.txt"
cmp "$work/report.txt" "$work/report.out.txt"
echo "decrypted text: $(cat "$work/report.out.txt")"

step decrypt --expect-context team=sales …  "(must fail: wrong context)"
if cli decrypt --key local://demo --expect-context team=sales -i "$work/report.kmse" -o "$work/wrong.txt"; then
  echo "demo: decrypt with the wrong context succeeded" >&2
  exit 1
fi
[ ! -e "$work/wrong.txt" ] || { echo "demo: a failed decrypt left an output file" >&2; exit 1; }
step keys audit demo
cli keys audit demo
printf '\n\033[32mround trip OK:\033[0m the plaintext came back byte for byte; the wrong context was refused and left no file.\n'

#!/usr/bin/env bash
# Regenerates the certified routing policy from the served champions in one command
# (`npm run certify:policy [-- WORKDIR [extra npm run certify options]]`): generates the
# calibration benchmark (12,000 invoices, seed 303, about 13 invoices per vendor, 90% in the
# valid split: 10,800 invoices of about 830 vendors) and the unseen seeds 101 and 202 (4,000
# invoices each) unless WORKDIR already holds them; scores the valid split plus 300 invoices of
# the procurement benchmark (seed 303, ERP data loaded) and the test splits of seeds 101 and 202
# in CERTIFY_PARTS parallel parts by vendor profile (default 4; `npm run certify -- --shard`),
# keeping the scored rows in WORKDIR/rows (a part whose rows are complete is not scored again:
# delete WORKDIR/rows after a champion changes); then certifies on the rows and checks the
# promise on seeds 101 and 202 (`--rows`, `--verify-rows`). Writes certified-policy.json and
# certified-policy.certification.json in the current directory. Scoring is about 0.05 s of CPU
# per invoice (12,300 invoices plus the procurement cases' earlier invoices) plus about 20 s of
# start-up per part.
set -euo pipefail
usage() {
  echo "usage: npm run certify:policy [-- WORKDIR [extra npm run certify options]]"
  echo "  WORKDIR  where the generated benchmarks and scored rows are kept (default: data); extra options go to npm run certify"
  echo "  CERTIFY_PARTS=n  parallel scoring processes (default 4)"
}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  -*) echo "certify-policy: unknown option $1 (WORKDIR comes first)" >&2; usage >&2; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=${1:-data}
shift || true
parts=${CERTIFY_PARTS:-4}
gen() { [[ -f $2/card.json ]] || npm run -s gen:benchmark -- --no-progress --out "$2" --seed "$1" "${@:3}"; }
gen 303 "$work/calib-303" --invoices 12000 --invoices-per-vendor 13 --split-fractions 0.05,0.9,0.05
gen 101 "$work/bench-101" --invoices 4000
gen 202 "$work/bench-202" --invoices 4000
mkdir -p "$work/rows"
# score NAME DIR SPLIT PROCUREMENT_PER_KIND: rows of each part in $work/rows/NAME-k-of-n.jsonl;
# a part is complete when its .done marker exists (written after its last row).
score() {
  local pids=() k
  for ((k = 0; k < parts; k++)); do
    local rows="$work/rows/$1-$k-of-$parts.jsonl"
    [[ -f $rows.done ]] && continue
    (npm run -s certify -- --data "$2" --split "$3" --shard "$k/$parts" --procurement-per-kind "$4" \
      --rows-out "$rows" --out "$work/rows/$1-$k-of-$parts.policy.json" >/dev/null && touch "$rows.done") &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
}
score calib-303-valid "$work/calib-303" valid 20
score bench-101-test "$work/bench-101" test 0
score bench-202-test "$work/bench-202" test 0
# One file per unseen seed: the promise is checked on each seed's whole test split.
for s in 101 202; do cat "$work"/rows/bench-$s-test-*-of-"$parts".jsonl >"$work/rows/bench-$s-test.jsonl"; done
npm run -s certify -- --data "$work/calib-303" --split valid --procurement-seed 303 \
  --rows "$work"/rows/calib-303-valid-*-of-"$parts".jsonl --out certified-policy.json \
  --verify-rows "$work/rows/bench-101-test.jsonl" "$work/rows/bench-202-test.jsonl" "$@"

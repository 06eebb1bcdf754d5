#!/usr/bin/env bash
# Regenerates the certified routing policy from the served champions in one command
# (`npm run certify:policy [-- WORKDIR [extra npm run certify options]]`): generates the
# calibration benchmark (12,000 invoices, seed 303, about 13 invoices per vendor, 90% in the
# valid split: 10,800 invoices of about 830 vendors) and the unseen seeds 101 and 202 (4,000
# invoices each) unless WORKDIR already holds them, then runs `npm run certify` on the valid
# split plus 300 invoices of the procurement benchmark (seed 303, ERP data loaded) and checks
# the promise on the test splits of seeds 101 and 202. Writes certified-policy.json and
# certified-policy.certification.json in the current directory. Scoring is about 0.05 s of CPU
# per invoice (12,300 invoices plus the procurement cases' earlier invoices).
set -euo pipefail
usage() {
  echo "usage: npm run certify:policy [-- WORKDIR [extra npm run certify options]]"
  echo "  WORKDIR  where the generated benchmarks are kept (default: data); extra options go to npm run certify"
}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  -*) echo "certify-policy: unknown option $1 (WORKDIR comes first)" >&2; usage >&2; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=${1:-data}
shift || true
gen() { [[ -f $2/card.json ]] || npm run -s gen:benchmark -- --no-progress --out "$2" --seed "$1" "${@:3}"; }
gen 303 "$work/calib-303" --invoices 12000 --invoices-per-vendor 13 --split-fractions 0.05,0.9,0.05
gen 101 "$work/bench-101" --invoices 4000
gen 202 "$work/bench-202" --invoices 4000
npm run -s certify -- --data "$work/calib-303" --split valid --procurement-seed 303 --procurement-per-kind 20 \
  --out certified-policy.json --verify "$work/bench-101" "$work/bench-202" "$@"

#!/usr/bin/env bash
# Regenerates the certified routing policy from the served champions in one command
# (`npm run certify:policy [-- WORKDIR [extra npm run certify options]]`): generates the
# calibration benchmark (CERTIFY_CALIB_INVOICES invoices, default 48,000, seed CERTIFY_CALIB_SEED,
# default 307: the draw the shipped policy is certified on; about 13 invoices per vendor, 90% in
# the valid split: 43,200 invoices of about 3,320 vendors) and the unseen seeds 101 and 202 (4,000
# invoices each) unless WORKDIR already holds them; scores, at most CERTIFY_PARTS processes at a
# time (default 2), the valid split in CERTIFY_PARTS parts by vendor profile (`npm run certify --
# --shard`), the procurement benchmark (seed CERTIFY_PROCUREMENT_SEED, default 308, ERP data loaded; CERTIFY_PROCUREMENT_PER_KIND
# cases of each of its 15 kinds, default 320, billed by CERTIFY_PROCUREMENT_VENDORS vendors,
# default 962) and the whole test splits of seeds 101 and 202, keeping the scored rows in
# WORKDIR/rows (a job whose rows are complete, marked by NAME.jsonl.done, is not scored again:
# delete WORKDIR/rows after a champion changes; a failed job's messages are in NAME.err); then
# certifies on the rows and checks the promise on seeds 101 and 202 (`--rows`, `--verify-rows`).
# Writes certified-policy.json and certified-policy.certification.json in the package root
# (`--out datasets/policies/certified-policy.json` among the extra options: the shipped place).
# Scoring is about 0.04 s of CPU per invoice (48,000 invoices plus the procurement cases) plus
# about 20 s of start-up per job. CERTIFY_CMD replaces `npm run -s certify --` (tests).
set -euo pipefail
usage() {
  echo "usage: npm run certify:policy [-- WORKDIR [extra npm run certify options]]"
  echo "  CERTIFY_CALIB_SEED=s CERTIFY_CALIB_INVOICES=n  calibration benchmark seed and size (default 307, 48000)"
  echo "  WORKDIR  where the generated benchmarks and scored rows are kept (default: data); extra options go to npm run certify"
  echo "  CERTIFY_PARTS=n  parts of the calibration split and most scoring processes at a time (default 2)"
  echo "  CERTIFY_PROCUREMENT_PER_KIND=n CERTIFY_PROCUREMENT_VENDORS=m  PO-backed cases (default 320 per kind, 962 vendors)"
  echo "  CERTIFY_PROCUREMENT_SEED=s  seed of the PO-backed cases (default 308)"
}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  -*) echo "certify-policy: unknown option $1 (WORKDIR comes first)" >&2; usage >&2; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=${1:-data}
shift || true
parts=${CERTIFY_PARTS:-2}
per_kind=${CERTIFY_PROCUREMENT_PER_KIND:-320}
po_vendors=${CERTIFY_PROCUREMENT_VENDORS:-962}
po_seed=${CERTIFY_PROCUREMENT_SEED:-308}
calib_seed=${CERTIFY_CALIB_SEED:-307}
calib_invoices=${CERTIFY_CALIB_INVOICES:-48000}
read -r -a certify <<<"${CERTIFY_CMD:-npm run -s certify --}"
gen() { [[ -f $2/card.json ]] || npm run -s gen:benchmark -- --no-progress --out "$2" --seed "$1" "${@:3}"; }
calib=calib-$calib_seed
gen "$calib_seed" "$work/$calib" --invoices "$calib_invoices" --invoices-per-vendor 13 --split-fractions 0.05,0.9,0.05
gen 101 "$work/bench-101" --invoices 4000
gen 202 "$work/bench-202" --invoices 4000
rows=$work/rows
mkdir -p "$rows"

# Scoring jobs, one a line: NAME DIR SPLIT SHARD PROCUREMENT_PER_KIND LIMIT (SHARD and LIMIT
# "-" for none). The procurement cases are a job of their own (LIMIT 0: no benchmark invoice),
# named by their size so that another size is scored again.
jobs=()
for ((k = 0; k < parts; k++)); do jobs+=("$calib-valid-$k-of-$parts $work/$calib valid $k/$parts 0 -"); done
procurement=procurement-$po_seed-${per_kind}x$po_vendors
((per_kind > 0)) && jobs+=("$procurement $work/$calib valid - $per_kind 0")
# The unseen seeds' test splits are scored whole: a part would not see look-alikes across parts.
jobs+=("bench-101-test $work/bench-101 test - 0 -" "bench-202-test $work/bench-202 test - 0 -")

run_job() {
  local name=$1 dir=$2 split=$3 shard=$4 pk=$5 limit=$6 opts=()
  [[ $shard != - ]] && opts+=(--shard "$shard")
  [[ $limit != - ]] && opts+=(--limit "$limit")
  [[ $pk != 0 ]] && opts+=(--procurement-seed "$po_seed")
  "${certify[@]}" --data "$dir" --split "$split" "${opts[@]}" --procurement-per-kind "$pk" \
    --procurement-vendors "$po_vendors" --rows-out "$rows/$name.jsonl" --out "$rows/$name.policy.json" \
    >"$rows/$name.out" 2>"$rows/$name.err"
  touch "$rows/$name.jsonl.done"
}

declare -A names=()
failed=()
reap() { # waits for one job; records it when it failed
  local pid=
  local status=0
  wait -n -p pid || status=$?
  if ((status != 0)); then failed+=("${names[$pid]}"); fi
  unset "names[$pid]"
}
for job in "${jobs[@]}"; do
  read -r name _ <<<"$job"
  [[ -f $rows/$name.jsonl.done ]] && continue
  while ((${#names[@]} >= parts)); do reap; done
  # shellcheck disable=SC2086 # the job line is split into its fields on purpose
  run_job $job &
  names[$!]=$name
done
while ((${#names[@]} > 0)); do reap; done
if ((${#failed[@]} > 0)); then
  for name in "${failed[@]}"; do
    echo "certify-policy: scoring $name failed (rows kept for the other jobs); its last messages ($rows/$name.err):" >&2
    tail -n 5 "$rows/$name.err" >&2 || true
  done
  exit 1
fi

calib_rows=()
for ((k = 0; k < parts; k++)); do calib_rows+=("$rows/$calib-valid-$k-of-$parts.jsonl"); done
((per_kind > 0)) && calib_rows+=("$rows/$procurement.jsonl")
"${certify[@]}" --data "$work/$calib" --split valid --procurement-seed "$po_seed" \
  --procurement-per-kind "$per_kind" --procurement-vendors "$po_vendors" \
  --rows "${calib_rows[@]}" --out certified-policy.json \
  --verify-rows "$rows/bench-101-test.jsonl" "$rows/bench-202-test.jsonl" "$@"

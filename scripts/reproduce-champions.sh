#!/usr/bin/env bash
# Reproduces the shipped champions from nothing and checks them byte for byte:
# generates the seed-42 benchmarks (20,000 invoices; 40,000 for the coding model, coding-mismatch@4),
# runs `npm run train` for both models with the options each card records (its training seed among
# them), and compares each run's spec.json (standardisation, weights, calibration) with the
# shipped champion's spec.json, and its card with the shipped card's training
# draft (every field but trainedAt), and a card completed after training (test reliability diagram
# and label mix, npm run card:complete) with its completion. About 15 minutes on 2 cores. Exit
# code 1 on any difference.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=${1:-$(mktemp -d)}
data="$work/bench-42-20k"
[[ -f $data/card.json ]] || npm run -s gen:benchmark -- --invoices 20000 --seed 42 --out "$data"
# The coding model's benchmark has the same train size (14,000 invoices) and a valid split of
# 20,000 invoices, so its Learn-then-Test thresholds part holds about 14,000 invoices.
coding_data="$work/bench-42-40k"
[[ -f $coding_data/card.json ]] ||
  npm run -s gen:benchmark -- --invoices 40000 --seed 42 --split-fractions 0.35,0.5,0.15 --out "$coding_data"
status=0
for model in coding-mismatch duplicate; do
  data_of_model=$data
  [[ $model == coding-mismatch ]] && data_of_model=$coding_data
  out="$work/$model"
  shipped="models/artifacts/$model/$(node -p "require('./models/artifacts/$model/aliases.json').champion")"
  # Each champion is trained with the options its card records (seed, vector edition,
  # architectures, and the hard-negative weight and threshold grid when not the defaults:
  # training/reproduce-args.ts; duplicate@5: seed 7, pair edition 4, weight 5, 400 grid points).
  mapfile -t extra < <(npx -s tsx -e '
    import { recordedTrainOptions, trainArgs } from "./training/reproduce-args.ts";
    const card = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const a of trainArgs(recordedTrainOptions(card.training))) console.log(a);' "$shipped/card.json")
  npm run -s train -- --model "$model" --data "$data_of_model" --no-progress --no-eval-report --out "$out" "${extra[@]}"
  # spec.json (weights, calibration) and, for the coding model, line-context.json (the typical
  # quantities its line features read at serving, with the codes estimated from their price band)
  # must both be the shipped bytes. The duplicate model reads no line features.
  files=(spec.json)
  [[ $model == coding-mismatch ]] && files+=(line-context.json)
  for file in "${files[@]}"; do
    if cmp -s "$out/$file" "$shipped/$file"; then
      echo "$model: $file identical to $shipped/$file"
    else
      echo "$model: $file DIFFERS from $shipped/$file"
      status=1
    fi
  done
  node -e '
    const [run, card] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")));
    // notes added after training (card:complete) are not the run'"'"'s
    const later = /^(Re-evaluated after training|Measured on unseen data):/;
    const shipped = { ...card.training, notes: card.training.notes.filter((n) => !later.test(n)) };
    const bad = Object.keys(run).filter((k) => k !== "trainedAt" && JSON.stringify(run[k]) !== JSON.stringify(shipped[k]));
    if (bad.length) { console.log(`card differs in: ${bad.join(", ")}`); process.exit(1); }
    console.log("card identical to the shipped card (training draft, trainedAt aside)");
  ' "$out/card.json" "$shipped/card.json" || status=1
  # A card completed after its training run (npm run card:complete) must reproduce too.
  if grep -q '"Re-evaluated after training:' "$shipped/card.json"; then
    npm run -s card:complete -- --data "$data_of_model" --model "$model" --check || status=1
  fi
done
exit $status

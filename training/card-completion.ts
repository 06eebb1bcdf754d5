/**
 * Completing the card of a shipped model trained before training runs recorded the test
 * reliability diagram (`calibration.reliabilityTest`) and the label mix (`labels.mix`): the
 * model's own spec is re-evaluated on the test split of a benchmark assembled as `npm run
 * train` assembles it, and the card gains both fields and a note naming the data they come
 * from. Nothing else in the card changes. Deterministic: the same benchmark, spec and card give
 * the same output, which is how `npm run card:complete -- --check` verifies a shipped card.
 */
import type { ModelCard } from '../models/card.js';
import { inputProjection } from '../models/signature.js';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import type { AssembledData } from './assemble.js';
import type { DetectorReport } from './eval/report-types.js';
import { reliabilityBins } from './evaluate.js';

/** The note a completed card carries; the prefix identifies it so that completion is idempotent. */
export const COMPLETION_NOTE_PREFIX = 'Re-evaluated after training:';

/**
 * The card with `training.calibration.reliabilityTest` and `training.labels.mix` from `a`'s
 * benchmark test rows (pairs or lines) scored by `spec` and `a`'s label mix, and one note
 * (replacing an earlier completion note) saying so, naming `source` (the benchmark) and that it
 * may differ from the data the model was trained on.
 * @param card a card with a training draft (`source: 'trained'`).
 * @param a the task's assembled data (every split; only `test` benchmark rows are scored).
 * @param spec the card's own model spec (its calibration included).
 * @param source the benchmark, as readers should find it (e.g. the command that generates it).
 * @returns a new card; `card` is not modified.
 * @throws RangeError when the card has no training draft, its task differs from `a`'s, or the
 *   benchmark has no test rows.
 */
export function completeCard(
  card: ModelCard,
  a: AssembledData,
  spec: TrainedModelSpec,
  source: string,
): ModelCard {
  const t = card.training;
  if (!t) throw new RangeError(`${card.name}@${card.version} has no training draft to complete`);
  if (card.task !== a.task) throw new RangeError(`card task ${card.task}, data task ${a.task}`);
  const d = a.data;
  // Rows assembled on a later vector edition than the model's are cut to its inputs by name.
  const projection = inputProjection(spec.featureNames, d.featureNames);
  const scored: { score: number; label: 0 | 1 }[] = [];
  for (let i = 0; i < d.X.length; i++)
    if (d.meta[i]!.split === 'test' && d.meta[i]!.source === 'benchmark') {
      const x = projection ? Array.from(projection, (j) => d.X[i]![j]!) : d.X[i]!;
      scored.push({ score: predictProbability(spec, x), label: d.y[i] === 1 ? 1 : 0 });
    }
  if (scored.length === 0) throw new RangeError('the benchmark has no test rows');
  const unit = a.task === 'duplicate' ? 'pairs' : 'lines';
  const positives = scored.filter((s) => s.label === 1).length;
  const note =
    `${COMPLETION_NOTE_PREFIX} calibration.reliabilityTest scores the ${scored.length} test ${unit} ` +
    `(${positives} positive) of ${source} with this spec; labels.mix is that assembly's label mix ` +
    `(benchmark labels only: ${a.labels.benchmark.rows} rows). This data may differ from the data ` +
    `the model was trained on (labels.benchmark.files give the training files' sha256).`;
  return {
    ...card,
    training: {
      ...t,
      calibration: { ...t.calibration, reliabilityTest: reliabilityBins(scored) },
      labels: { ...t.labels, ...(a.labels.mix ? { mix: a.labels.mix } : {}) },
      // the training notes, this note, then the notes of figures on unseen data
      notes: [
        ...t.notes.filter((n) => !n.startsWith(COMPLETION_NOTE_PREFIX) && !n.startsWith(UNSEEN_NOTE_PREFIX)),
        note,
        ...t.notes.filter((n) => n.startsWith(UNSEEN_NOTE_PREFIX)),
      ],
    },
  };
}

/** The prefix of a note with the served pipeline's figures on a benchmark the model never saw. */
export const UNSEEN_NOTE_PREFIX = 'Measured on unseen data:';

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const ratio = (v: number | null): string => (v === null ? '-' : v.toFixed(3));

/**
 * One note with the duplicate figures of the served pipeline (`npm run eval --detector
 * current`) on one benchmark split the model never saw: precision and recall at review (a flag
 * names no kind, so precision is over all flags), recall per duplicate kind and per combination
 * of changes, hard negatives flagged, the
 * auto-approve promise (exceptions among AUTO_APPROVE, observed and 95% upper bound on vendor
 * clusters, PASS/FAIL) and the review load (clean invoices sent to people per 1,000 clean).
 * @param what the data and the command that produced `d` (e.g. the generator seed and split).
 * @param d the `current` detector's report of that evaluation.
 * @throws RangeError when `d` has no duplicate metrics or no guarantee (no decisions).
 */
export function unseenEvaluationNote(what: string, d: DetectorReport): string {
  const dup = d.duplicate;
  const g = d.guarantee;
  if (!dup || !g) throw new RangeError(`${d.name}: the report has no duplicate metrics or no decisions`);
  const at = (k: { at: { tp: number; fn: number } }): string => `${k.at.tp}/${k.at.tp + k.at.fn}`;
  const kinds = Object.entries(dup.byKind)
    .filter(([, k]) => k.positives > 0)
    .map(([kind, k]) => `${kind} ${at(k)}`);
  const combos = Object.entries(dup.byCombination)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, x]) => `${c} ${x.flagged}/${x.n}`);
  const negatives = Object.entries(dup.hardNegatives).map(([k, x]) => `${k} ${x.flagged}/${x.n}`);
  const a = g.autoApprove;
  const r = g.reviewLoad;
  return (
    `${UNSEEN_NOTE_PREFIX} ${what}, served as ${d.version}: duplicates at review precision ` +
    `${ratio(dup.overall.at.precision)}, recall ${ratio(dup.overall.at.recall)} (${at(dup.overall)}); ` +
    `per kind caught ${kinds.join(', ')}; with two or more changes caught ${combos.join(', ')}; ` +
    `hard negatives flagged ${negatives.join(', ')}; exceptions among AUTO_APPROVE ${a.errors}/${a.invoices} = ` +
    `${pct(a.rate)} (promised <= ${pct(a.promised)}; 95% upper bound ${pct(a.upper)} over ${a.vendors} vendors) ` +
    `${a.pass ? 'PASS' : 'FAIL'}; clean invoices sent to people ${r.cleanToPeople} of ${r.clean}, ` +
    `${r.perThousandClean.toFixed(0)} per 1,000 clean.`
  );
}

/**
 * The card with `notes` as its unseen-data notes (replacing earlier ones); nothing else changes.
 * @throws RangeError when the card has no training draft.
 */
export function withUnseenNotes(card: ModelCard, notes: readonly string[]): ModelCard {
  const t = card.training;
  if (!t) throw new RangeError(`${card.name}@${card.version} has no training draft`);
  return {
    ...card,
    training: { ...t, notes: [...t.notes.filter((n) => !n.startsWith(UNSEEN_NOTE_PREFIX)), ...notes] },
  };
}

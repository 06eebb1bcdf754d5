/**
 * The evaluation harness: runs detectors over a labelled benchmark split in submission order
 * and measures them per exception kind.
 *
 * Duplicates are scored per invoice: a positive is an invoice labelled as duplicating an
 * earlier one. For each duplicate kind the metrics are computed on that kind's positives
 * against all non-duplicates (so precision reads "if every duplicate were of this kind"),
 * plus the share of flagged positives whose matched invoice is the right one (the original or
 * an earlier copy of it). Hard negatives report their false-positive rate per kind.
 *
 * Coding exceptions are scored per line: a positive is a line labelled with a coding kind;
 * lines a detector does not score count as score 0. Per kind, the kind's lines are measured
 * against all clean lines; when the detector names kinds, "kind precision" is the share of
 * lines it names as that kind which truly are.
 */
import { decisionGuarantee, type DecisionGuarantee, type RoutedTruth } from './guarantee.js';
import type { Invoice } from '../../core/invoice.js';
import { readBenchmark } from '../../datasets/benchmark/read.js';
import { combinationOf } from '../../datasets/benchmark/combine.js';
import {
  BENCHMARK_SPLITS,
  CODING_KINDS,
  DUPLICATE_KINDS,
  HARD_NEGATIVE_KINDS,
  type BenchmarkRecord,
  type BenchmarkSplit,
  type CodingKind,
  type DuplicateKind,
  type HardNegativeKind,
} from '../../datasets/benchmark/types.js';
import type { Detector, InvoiceOutput } from './detector.js';
import { summarise, summaryDifferences, type InvoiceSummary } from './summary.js';
import { binaryReport, calibration, prCurve, type PrPoint, type Scored } from './metrics.js';

/** Ground truth of one line, kept for metrics and examples. */
interface LineTruth {
  lineNumber: number;
  code: string | null;
  description: string;
  kind: CodingKind | null;
  trueCode: string | null;
  evidence: Record<string, string | number> | undefined;
}

/** Ground truth of one invoice. */
interface Truth {
  seq: number;
  split: BenchmarkSplit;
  summary: InvoiceSummary;
  duplicate: BenchmarkRecord['label']['duplicate'];
  hardNegative: BenchmarkRecord['label']['hard_negative'];
  lines: LineTruth[];
}

export type {
  KindReport,
  NegativeReport,
  Example,
  DetectorReport,
  EvalReport,
  EvalOptions,
} from './report-types.js';
import type {
  KindReport,
  NegativeReport,
  Example,
  DetectorReport,
  EvalReport,
  EvalOptions,
} from './report-types.js';

/** Reads the ground truth of a split. */
async function readTruth(dir: string, split: BenchmarkSplit | 'all', limit: number | null): Promise<Truth[]> {
  const out: Truth[] = [];
  for await (const r of readBenchmark(dir, split === 'all' ? undefined : split)) {
    if (limit !== null && out.length >= limit) break;
    const kinds = new Map(r.label.coding.map((c) => [c.line_number, c]));
    out.push({
      seq: r.label.seq,
      split: r.label.split,
      summary: summarise(r.invoice),
      duplicate: r.label.duplicate,
      hardNegative: r.label.hard_negative,
      lines: r.invoice.lines.map((l) => {
        const c = kinds.get(l.line_number);
        return {
          lineNumber: l.line_number,
          code: l.code?.value ?? null,
          description: l.description,
          kind: c?.kind ?? null,
          trueCode: c?.true_code ?? null,
          evidence: c?.evidence,
        };
      }),
    });
  }
  return out;
}

/** The invoices of a split, labels stripped, in order. */
async function* invoicesOf(
  dir: string,
  split: BenchmarkSplit | 'all',
  limit: number | null,
): AsyncGenerator<Invoice> {
  let n = 0;
  for await (const r of readBenchmark(dir, split === 'all' ? undefined : split)) {
    if (limit !== null && n >= limit) return;
    n++;
    yield r.invoice;
  }
}

/** At most `max` points of a PR curve, evenly spread over its length (first and last kept). */
export function thinCurve(curve: readonly PrPoint[], max = 300): PrPoint[] {
  if (curve.length <= max) return [...curve];
  const out: PrPoint[] = [];
  for (let i = 0; i < max; i++) out.push(curve[Math.round((i * (curve.length - 1)) / (max - 1))] as PrPoint);
  return out;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/** Keeps the `n` most telling examples: sorted by `rank` (ascending), ties by order seen. */
/** The predicted kind of an example the detector did not flag at its threshold. */
const NOT_FLAGGED = 'not flagged';

function top(examples: (Example & { rank: number })[], n: number): Example[] {
  return examples
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.rank - b.e.rank || a.i - b.i)
    .slice(0, n)
    .map(({ e }) => {
      const { rank: _rank, ...rest } = e;
      return rest;
    });
}

/**
 * The routing promise tested on each split of routed invoices that span more than one split
 * (`--split all`), so that a split breaking the promise is not hidden in the pooled rate; null
 * for a single split (its pooled check is the split's own).
 */
export function guaranteesBySplit(
  routed: readonly (RoutedTruth & { split: BenchmarkSplit })[],
): Partial<Record<BenchmarkSplit, DecisionGuarantee>> | null {
  const splits = BENCHMARK_SPLITS.filter((s) => routed.some((r) => r.split === s));
  if (splits.length < 2) return null;
  return Object.fromEntries(splits.map((s) => [s, decisionGuarantee(routed.filter((r) => r.split === s))]));
}

/** Measures one detector's outputs against the truth. */
function measure(
  detector: Pick<Detector, 'name' | 'version' | 'tasks' | 'thresholds'>,
  truth: readonly Truth[],
  outputs: readonly InvoiceOutput[],
  seconds: number,
  exampleCount = 8,
): DetectorReport {
  const byId = new Map(truth.map((t) => [t.summary.invoice_id, t]));
  const thr = detector.thresholds;
  const decisions: Record<string, number> = {};
  for (const o of outputs) if (o.decision) decisions[o.decision] = (decisions[o.decision] ?? 0) + 1;
  const exceptionsByDecision: DetectorReport['exceptionsByDecision'] = {};
  for (const o of outputs) {
    if (!o.decision) continue;
    const t = byId.get(o.invoiceId);
    const e = (exceptionsByDecision[o.decision] ??= { invoices: 0, exceptions: 0, exceptionRate: 0 });
    e.invoices++;
    if (t && (t.duplicate !== null || t.lines.some((l) => l.kind !== null))) e.exceptions++;
  }
  for (const e of Object.values(exceptionsByDecision)) e.exceptionRate = e.exceptions / e.invoices;
  const routed = outputs.flatMap((o) => {
    const t = byId.get(o.invoiceId);
    if (!o.decision || !t) return [];
    const exception = t.duplicate !== null || t.lines.some((l) => l.kind !== null);
    const cause = o.cause
      ? {
          cause: o.cause.reason,
          causeCode:
            o.cause.lineNumber === null
              ? null
              : (t.lines.find((l) => l.lineNumber === o.cause?.lineNumber)?.code ?? null),
        }
      : {};
    return [{ decision: o.decision, exception, vendorId: t.summary.vendor_id, split: t.split, ...cause }];
  });
  const guarantee = routed.length > 0 ? decisionGuarantee(routed) : null;
  const guaranteeBySplit = guaranteesBySplit(routed);
  const examples = {
    duplicateFalseNegatives: [] as (Example & { rank: number })[],
    duplicateFalsePositives: [] as (Example & { rank: number })[],
    codingFalseNegatives: [] as (Example & { rank: number })[],
    codingFalsePositives: [] as (Example & { rank: number })[],
  };

  let duplicate: DetectorReport['duplicate'] = null;
  if (detector.tasks.duplicate) {
    // Invoices that count as "the right match" for a duplicate: its original and earlier copies of it.
    const copiesOf = new Map<string, { id: string; seq: number }[]>();
    for (const t of truth) {
      if (!t.duplicate) continue;
      copiesOf.set(t.duplicate.of, [
        ...(copiesOf.get(t.duplicate.of) ?? []),
        { id: t.summary.invoice_id, seq: t.seq },
      ]);
    }
    const all: Scored[] = [];
    const negativesOnly: Scored[] = [];
    const perKind = new Map<DuplicateKind, { xs: Scored[]; flagged: number; matched: number }>();
    for (const k of DUPLICATE_KINDS) perKind.set(k, { xs: [], flagged: 0, matched: 0 });
    const hn = {} as Record<HardNegativeKind | 'plain', NegativeReport>;
    for (const k of [...HARD_NEGATIVE_KINDS, 'plain'] as const)
      hn[k] = { n: 0, flagged: 0, fpr: Number.NaN, flaggedAgainstRelated: 0 };
    let flaggedPos = 0;
    let matchedPos = 0;
    const byCombination: Record<string, { n: number; flagged: number; recall: number }> = {};
    outputs.forEach((o, i) => {
      const t = truth[i] as Truth;
      const score = o.duplicateScore;
      const flagged = score >= thr.duplicate;
      if (t.duplicate) {
        all.push({ score, label: 1 });
        const pk = perKind.get(t.duplicate.kind) as { xs: Scored[]; flagged: number; matched: number };
        pk.xs.push({ score, label: 1 });
        const combo = combinationOf(t.duplicate.kind, t.duplicate.combined);
        if (combo) {
          const c = (byCombination[combo] ??= { n: 0, flagged: 0, recall: 0 });
          c.n++;
          if (flagged) c.flagged++;
          c.recall = c.flagged / c.n;
        }
        const accepted =
          o.duplicateOf !== null &&
          (o.duplicateOf === t.duplicate.of ||
            (copiesOf.get(t.duplicate.of) ?? []).some((c) => c.id === o.duplicateOf && c.seq < t.seq));
        if (flagged) {
          pk.flagged++;
          flaggedPos++;
          if (accepted) {
            pk.matched++;
            matchedPos++;
          }
        } else {
          examples.duplicateFalseNegatives.push({
            rank: score,
            invoice_id: t.summary.invoice_id,
            score,
            true_kind: t.duplicate.kind,
            predicted_kind: NOT_FLAGGED,
            other: t.duplicate.of,
            detail: t.duplicate.changes.length > 0 ? t.duplicate.changes : ['(identical except invoice_id)'],
          });
        }
      } else {
        all.push({ score, label: 0 });
        negativesOnly.push({ score, label: 0 });
        const key = t.hardNegative?.kind ?? 'plain';
        hn[key].n++;
        if (flagged) {
          hn[key].flagged++;
          if (t.hardNegative && o.duplicateOf === t.hardNegative.related) hn[key].flaggedAgainstRelated++;
          const matched = o.duplicateOf ? byId.get(o.duplicateOf) : undefined;
          examples.duplicateFalsePositives.push({
            rank: -score,
            invoice_id: t.summary.invoice_id,
            score,
            true_kind: key,
            predicted_kind: 'duplicate',
            other: o.duplicateOf,
            detail: matched
              ? summaryDifferences(t.summary, matched.summary)
              : ['(matched invoice not in this split)'],
          });
        }
      }
    });
    for (const k of [...HARD_NEGATIVE_KINDS, 'plain'] as const)
      hn[k].fpr = hn[k].n ? hn[k].flagged / hn[k].n : Number.NaN;
    const byKind = {} as Record<DuplicateKind, KindReport>;
    for (const k of DUPLICATE_KINDS) {
      const pk = perKind.get(k) as { xs: Scored[]; flagged: number; matched: number };
      byKind[k] = {
        ...binaryReport([...pk.xs, ...negativesOnly], thr.duplicate),
        matched: pk.flagged ? pk.matched / pk.flagged : Number.NaN,
      };
    }
    duplicate = {
      overall: {
        ...binaryReport(all, thr.duplicate),
        matched: flaggedPos ? matchedPos / flaggedPos : Number.NaN,
      },
      byKind,
      byCombination,
      hardNegatives: hn,
      prCurve: thinCurve(prCurve(all)),
      reliability: calibration(all).bins,
    };
  }

  let coding: DetectorReport['coding'] = null;
  if (detector.tasks.coding) {
    const all: Scored[] = [];
    const clean: Scored[] = [];
    const perKind = new Map<CodingKind, Scored[]>(CODING_KINDS.map((k) => [k, []]));
    const named = zeros(CODING_KINDS);
    const namedRight = zeros(CODING_KINDS);
    let notScored = 0;
    const confusion: Record<string, Record<string, number>> = {};
    outputs.forEach((o, i) => {
      const t = truth[i] as Truth;
      const scored = new Map(o.lines.map((l) => [l.lineNumber, l]));
      for (const line of t.lines) {
        const out = scored.get(line.lineNumber);
        if (!out || out.score === null) notScored++;
        const score = out?.score ?? 0;
        const flagged = score >= thr.coding;
        const row = (confusion[line.kind ?? 'clean'] ??= {});
        const said = !flagged ? [NOT_FLAGGED] : out?.kinds?.length ? out.kinds : ['flagged'];
        for (const k of said) row[k] = (row[k] ?? 0) + 1;
        if (flagged) {
          for (const k of out?.kinds ?? []) {
            named[k]++;
            if (line.kind === k) namedRight[k]++;
          }
        }
        if (line.kind) {
          all.push({ score, label: 1 });
          (perKind.get(line.kind) as Scored[]).push({ score, label: 1 });
          if (!flagged)
            examples.codingFalseNegatives.push({
              rank: score,
              invoice_id: t.summary.invoice_id,
              line_number: line.lineNumber,
              score,
              true_kind: line.kind,
              predicted_kind: NOT_FLAGGED,
              other: line.trueCode,
              detail: [
                `billed ${line.code ?? '(no code)'}: ${line.description.slice(0, 90)}`,
                ...Object.entries(line.evidence ?? {}).map(([k, v]) => `${k}=${v}`),
              ],
            });
        } else {
          all.push({ score, label: 0 });
          clean.push({ score, label: 0 });
          if (flagged)
            examples.codingFalsePositives.push({
              rank: -score,
              invoice_id: t.summary.invoice_id,
              line_number: line.lineNumber,
              score,
              true_kind: 'clean',
              predicted_kind: (out?.kinds ?? []).join(',') || 'flagged',
              detail: [`billed ${line.code ?? '(no code)'}: ${line.description.slice(0, 90)}`],
            });
        }
      }
    });
    const byKind = {} as Record<CodingKind, KindReport>;
    for (const k of CODING_KINDS) {
      byKind[k] = {
        ...binaryReport([...(perKind.get(k) as Scored[]), ...clean], thr.coding),
        kindPrecision: named[k] ? namedRight[k] / named[k] : Number.NaN,
      };
    }
    coding = {
      overall: binaryReport(all, thr.coding),
      byKind,
      notScored,
      confusion,
      prCurve: thinCurve(prCurve(all)),
      reliability: calibration(all).bins,
    };
  }

  return {
    name: detector.name,
    version: detector.version,
    thresholds: thr,
    invoices: outputs.length,
    seconds,
    invoicesPerSecond: seconds > 0 ? outputs.length / seconds : Number.NaN,
    decisions,
    guarantee,
    ...(guaranteeBySplit ? { guaranteeBySplit } : {}),
    exceptionsByDecision,
    duplicate,
    coding,
    examples: {
      duplicateFalseNegatives: top(examples.duplicateFalseNegatives, exampleCount),
      duplicateFalsePositives: top(examples.duplicateFalsePositives, exampleCount),
      codingFalseNegatives: top(examples.codingFalseNegatives, exampleCount),
      codingFalsePositives: top(examples.codingFalsePositives, exampleCount),
    },
  };
}

/**
 * Runs every detector over the split (each on its own, in submission order) and measures it.
 * @throws Error when a detector yields a different number of outputs or outputs out of order.
 */
export async function evaluate(
  dir: string,
  detectors: readonly Detector[],
  opts: EvalOptions = {},
): Promise<EvalReport> {
  const split = opts.split ?? 'test';
  const limit = opts.limit ?? null;
  const truth = await readTruth(dir, split, limit);
  const positives = {
    duplicates: zeros(DUPLICATE_KINDS),
    hardNegatives: zeros(HARD_NEGATIVE_KINDS),
    coding: zeros(CODING_KINDS),
  };
  for (const t of truth) {
    if (t.duplicate) positives.duplicates[t.duplicate.kind]++;
    if (t.hardNegative) positives.hardNegatives[t.hardNegative.kind]++;
    for (const l of t.lines) if (l.kind) positives.coding[l.kind]++;
  }
  const reports: DetectorReport[] = [];
  for (const d of detectors) {
    const outputs: InvoiceOutput[] = [];
    const t0 = process.hrtime.bigint();
    try {
      for await (const o of d.run(invoicesOf(dir, split, limit))) {
        const expected = truth[outputs.length];
        if (!expected || o.invoiceId !== expected.summary.invoice_id)
          throw new Error(
            `${d.name} answered ${o.invoiceId} where ${expected?.summary.invoice_id ?? 'nothing'} was due`,
          );
        if (!(o.duplicateScore >= 0 && o.duplicateScore <= 1))
          throw new RangeError(
            `${d.name}: duplicate score of ${o.invoiceId} is ${o.duplicateScore}, not in [0, 1]`,
          );
        outputs.push(o);
        if (outputs.length % 100 === 0) opts.onProgress?.(d.name, outputs.length, truth.length);
      }
    } finally {
      await d.close?.();
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (outputs.length !== truth.length)
      throw new Error(`${d.name} answered ${outputs.length} of ${truth.length} invoices`);
    opts.onProgress?.(d.name, outputs.length, truth.length);
    reports.push(measure(d, truth, outputs, seconds, opts.examples ?? 8));
  }
  return {
    dataset: dir,
    split,
    invoices: truth.length,
    lines: truth.reduce((n, t) => n + t.lines.length, 0),
    limit,
    positives,
    detectors: reports,
  };
}

/**
 * The routing promise tested on an evaluated split, for the decision as a whole (every
 * detector together, as the service routes): among `AUTO_APPROVE` invoices at most
 * {@link DECISION_PROMISE}`.autoApprove` are true exceptions (a duplicate or a coding label on
 * any line); among `HOLD` invoices at most `.hold` are clean. Beside each observed rate: the
 * one-sided `1 - delta` Clopper-Pearson upper bound on independent invoices and on vendor
 * clusters (training/grouped-risk.ts), and pass/fail (the observed rate within the promise).
 * Also the review load: clean invoices the decision sends to people (REVIEW or HOLD) per 1,000
 * invoices and per 1,000 clean invoices.
 */
import { clusterCounts, riskUpperBound } from '../grouped-risk.js';

/**
 * What the cards and README promise for a decision: the coding card's Learn-then-Test levels
 * (auto-approve alpha 0.005, hold alpha 0.1, delta 0.05), stated for the invoice as routed.
 */
export const DECISION_PROMISE = { autoApprove: 0.005, hold: 0.1, delta: 0.05 } as const;

/** One side of the promise on one split. */
export interface PromiseCheck {
  /** Promised maximum error rate. */
  promised: number;
  /** Invoices on this side (auto-approved, or held) and errors among them. */
  invoices: number;
  errors: number;
  /** errors / invoices (0 without invoices). */
  rate: number;
  /** Upper `1 - delta` bound, invoices as independent draws. */
  upperIndependent: number;
  /** Upper `1 - delta` bound on vendor clusters (Kish design effect). */
  upper: number;
  deff: number;
  vendors: number;
  /** The observed rate is within the promise. */
  pass: boolean;
}

/** Clean invoices sent to people. */
export interface ReviewLoad {
  invoices: number;
  clean: number;
  /** Clean invoices routed REVIEW or HOLD. */
  cleanToPeople: number;
  perThousandInvoices: number;
  perThousandClean: number;
  /**
   * The clean invoices sent to people, counted by what sent them (the decision's heaviest reason
   * in its queue, `(none)` when the detector does not say), by the HCPCS code of the line that
   * reason is about (`(invoice)` for an invoice-level reason) and by vendor; most frequent first.
   */
  causes: {
    byReason: Record<string, number>;
    byCode: Record<string, number>;
    byVendor: Record<string, number>;
  };
}

/** {@link decisionGuarantee}'s result. */
export interface DecisionGuarantee {
  delta: number;
  autoApprove: PromiseCheck;
  hold: PromiseCheck;
  reviewLoad: ReviewLoad;
}

/** One routed invoice: its decision, whether it truly is an exception, its vendor. */
export interface RoutedTruth {
  decision: string;
  exception: boolean;
  vendorId: string;
  /** The reason code that sent the invoice to people, if known (see {@link ReviewLoad}). */
  cause?: string;
  /** HCPCS code of the line that reason is about; null for an invoice-level reason. */
  causeCode?: string | null;
}

/** Counts of `keys`, most frequent first (ties by key). */
function tally(keys: readonly string[]): Record<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

function check(rows: readonly RoutedTruth[], side: string, promised: number, delta: number): PromiseCheck {
  const selected = rows.map((r) => r.decision === side);
  const errors = rows.map((r) => (side === 'HOLD' ? !r.exception : r.exception));
  const clusters = clusterCounts(
    selected,
    errors,
    rows.map((r) => r.vendorId),
  );
  const grouped = riskUpperBound(clusters, delta, true);
  const independent = riskUpperBound(clusters, delta, false);
  return {
    promised,
    invoices: grouped.n,
    errors: grouped.errors,
    rate: grouped.rate,
    upperIndependent: independent.upper,
    upper: grouped.upper,
    deff: grouped.deff,
    vendors: clusters.length,
    pass: grouped.rate <= promised,
  };
}

/**
 * Tests the promise (see the module doc) on routed invoices with their truth.
 * @param promise defaults to {@link DECISION_PROMISE}.
 */
export function decisionGuarantee(
  rows: readonly RoutedTruth[],
  promise: { autoApprove: number; hold: number; delta: number } = DECISION_PROMISE,
): DecisionGuarantee {
  const clean = rows.filter((r) => !r.exception);
  const toPeople = clean.filter((r) => r.decision === 'REVIEW' || r.decision === 'HOLD');
  const cleanToPeople = toPeople.length;
  return {
    delta: promise.delta,
    autoApprove: check(rows, 'AUTO_APPROVE', promise.autoApprove, promise.delta),
    hold: check(rows, 'HOLD', promise.hold, promise.delta),
    reviewLoad: {
      invoices: rows.length,
      clean: clean.length,
      cleanToPeople,
      perThousandInvoices: rows.length ? (1000 * cleanToPeople) / rows.length : 0,
      perThousandClean: clean.length ? (1000 * cleanToPeople) / clean.length : 0,
      causes: {
        byReason: tally(toPeople.map((r) => r.cause ?? '(none)')),
        byCode: tally(
          toPeople.map((r) => (r.causeCode === undefined ? '(none)' : (r.causeCode ?? '(invoice)'))),
        ),
        byVendor: tally(toPeople.map((r) => r.vendorId)),
      },
    },
  };
}

/** The check as text lines for the console report. */
export function renderGuarantee(name: string, g: DecisionGuarantee): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  const side = (label: string, c: PromiseCheck): string =>
    `${label} ${c.errors}/${c.invoices} = ${pct(c.rate)} (promised <= ${pct(c.promised)}; ` +
    `${Math.round(100 * (1 - g.delta))}% upper bound ${pct(c.upper)} over ${c.vendors} vendors, deff ${c.deff.toFixed(2)}; ` +
    `${pct(c.upperIndependent)} as independent invoices): ${c.pass ? 'PASS' : 'FAIL'}`;
  const l = g.reviewLoad;
  return [
    `${name} decision guarantee: ${side('exceptions among AUTO_APPROVE', g.autoApprove)}`,
    `${name} decision guarantee: ${side('clean among HOLD', g.hold)}`,
    `${name} review load: ${l.cleanToPeople} of ${l.clean} clean invoices sent to people (REVIEW or HOLD): ` +
      `${l.perThousandClean.toFixed(1)} per 1,000 clean, ${l.perThousandInvoices.toFixed(1)} per 1,000 invoices`,
    ...(l.cleanToPeople > 0
      ? [
          `${name} clean sent to people by reason: ${top(l.causes.byReason)}`,
          `${name} clean sent to people by code: ${top(l.causes.byCode)}`,
          `${name} clean sent to people by vendor: ${top(l.causes.byVendor)}`,
        ]
      : []),
  ];
}

/** The `n` most frequent entries of a tally as `key n, key n, ...` (and how many more keys). */
function top(counts: Record<string, number>, n = 10): string {
  const entries = Object.entries(counts);
  const shown = entries.slice(0, n).map(([k, v]) => `${k} ${v}`);
  return entries.length > n ? `${shown.join(', ')} (+${entries.length - n} more)` : shown.join(', ');
}

/**
 * What `npm run eval -- --require` fails on: each side of the promise whose observed rate is
 * above the promise (pooled, and on each split when several were evaluated), and, with
 * `maxReviewLoad`, a review load above that many clean invoices sent to people per 1,000 clean.
 * @returns one line per failure, naming the detector, the split and the figure; empty when all hold.
 */
export function promiseFailures(
  detectors: readonly {
    name: string;
    guarantee?: DecisionGuarantee | null;
    guaranteeBySplit?: Partial<Record<string, DecisionGuarantee>>;
  }[],
  maxReviewLoad?: number,
): string[] {
  const failures: string[] = [];
  const test = (where: string, g: DecisionGuarantee): void => {
    for (const [label, c] of [
      ['exceptions among AUTO_APPROVE', g.autoApprove],
      ['clean among HOLD', g.hold],
    ] as const)
      if (!c.pass)
        failures.push(`${where}: ${label} ${c.errors}/${c.invoices} above the promised ${c.promised}`);
    const l = g.reviewLoad;
    if (maxReviewLoad !== undefined && l.perThousandClean > maxReviewLoad)
      failures.push(
        `${where}: ${l.perThousandClean.toFixed(1)} clean invoices per 1,000 clean sent to people, above ${maxReviewLoad}`,
      );
  };
  for (const d of detectors) {
    if (d.guarantee) test(d.name, d.guarantee);
    for (const [split, g] of Object.entries(d.guaranteeBySplit ?? {})) if (g) test(`${d.name} ${split}`, g);
  }
  return failures;
}

/**
 * The current scoring service as a detector: every invoice goes through the production
 * path (`createScoringService` from inference/pipeline.ts: features, coding scorer, pgvector
 * kNN + exact-key candidates, pair scorer, routing, one transactional write) in submission
 * order, exactly as the API would receive them. The service is injected (wired in `bin/`),
 * so this module depends on its shape only.
 */
import { REASON_CODES, type DecisionResponse, type ReasonCode, type Versions } from '../../core/decision.js';
import type { Invoice } from '../../core/invoice.js';
import type { CodingKind } from '../../datasets/benchmark/types.js';
import { detectorFromScorer, type Detector } from './detector.js';

/** The part of the scoring service the detector uses (`ScoringService` of inference/). */
export interface ScoringServiceLike {
  score(invoice: Invoice): Promise<{ decision: DecisionResponse; created: boolean }>;
  readonly versions: Versions;
}

/**
 * Reason codes that name a coding exception kind of the benchmark, each by the kind's definition
 * in the generator (datasets/benchmark/lines.ts): an unknown or a terminated code; a unit price
 * far above the code's fee (`price_outlier`: k x the fee or more); a description or a printed
 * code that fits another code than the billed one (`wrong_code_same_family`); a code outside the
 * vendor's approved categories (`outside_vendor_categories`). Every other coding-queue code is in
 * {@link UNMAPPED_CODING_REASONS} with why it names no kind.
 */
export const REASON_TO_KIND = {
  CODE_UNKNOWN: 'unknown_code',
  CODE_TERMINATED: 'terminated_code',
  PRICE_ABOVE_FEE_SCHEDULE: 'price_outlier',
  DESCRIPTION_CODE_MISMATCH: 'wrong_code_same_family',
  PRINTED_CODE_DIFFERS: 'wrong_code_same_family',
  CODE_OUTSIDE_VENDOR_PROFILE: 'outside_vendor_categories',
} as const satisfies Partial<Record<ReasonCode, CodingKind>>;

/** Coding-queue reason codes deliberately left out of {@link REASON_TO_KIND}, with why. */
export const UNMAPPED_CODING_REASONS = {
  CODE_MISSING: "informational (weight 0); no benchmark kind drops a line's code",
  CODE_SYSTEM_UNVERIFIED: 'informational (weight 0); the benchmark bills HCPCS codes only',
  PRICE_BELOW_FEE_SCHEDULE:
    'a price below the fee the service knows for the code and modifiers; a price_outlier line is ' +
    'priced at k x that fee or more (k > 1), so below it is another kind or none (a cheaper ' +
    "sibling's price under the billed code: wrong_code_same_family; a pack or billing unit)",
  QUANTITY_IMPLAUSIBLE:
    'quantity or dose units: names implausible_quantity or unit_dose_mismatch without saying which',
  CODING_MODEL_RISK: 'the model risk no specific check names (code coverage, section, vendor fit)',
} as const satisfies Partial<Record<ReasonCode, string>>;

/** The coding kind a reason code names ({@link REASON_TO_KIND}), or null. */
export function kindOfReason(code: string): CodingKind | null {
  return (REASON_TO_KIND as Readonly<Record<string, CodingKind>>)[code] ?? null;
}

/**
 * The heaviest reason of a decision that sends an invoice to people, in the queue it was routed
 * to (any queue when none of its reasons is in it); null for an auto-approved invoice.
 */
export function causeOf(decision: DecisionResponse): { reason: string; lineNumber: number | null } | null {
  if (decision.decision === 'AUTO_APPROVE' || decision.reasons.length === 0) return null;
  const queueOf = (code: string): string | undefined =>
    (REASON_CODES as Record<string, { queue: string }>)[code]?.queue;
  const inQueue = decision.reasons.filter((r) => queueOf(r.code) === decision.queue);
  const pool = inQueue.length > 0 ? inQueue : decision.reasons;
  const top = pool.reduce((a, b) => (b.weight > a.weight ? b : a));
  const line = top.evidence['line_number'];
  return { reason: top.code, lineNumber: typeof line === 'number' ? line : null };
}

/** Options of {@link createServiceDetector}. */
export interface ServiceDetectorOptions {
  /** Detector name in reports; default `current`. */
  name?: string;
  /** Duplicate score from which the service routes to review (the policy's `duplicateReview`). */
  duplicateThreshold: number;
  /** Line coding score from which the service routes to coding review (the policy's `codingReview`). */
  codingThreshold: number;
  /** Called after the last invoice (e.g. closes the store). */
  close?: () => Promise<void>;
  /**
   * Where the routing thresholds come from (`versions.thresholds` of the default tenant): any not
   * the policy's own (a card routing a model the default is not certified for) is named in the
   * reported version.
   */
  thresholdSources?: Record<string, string>;
}

/**
 * Wraps a scoring service. The duplicate score is the decision's `scores.duplicate` (the best
 * candidate pair), the matched invoice its first reported duplicate; a line's score is its
 * `coding_mismatch` (null when the line carries no HCPCS code) and its kinds come from the
 * line's reason codes ({@link REASON_TO_KIND}).
 * @throws TriageError from the service (e.g. `TRIAGE_INVOICE_CONFLICT` when an id was reused).
 */
export function createServiceDetector(service: ScoringServiceLike, opts: ServiceDetectorOptions): Detector {
  const models = service.versions.models;
  const policy = service.versions.policy;
  const notPolicy = Object.entries(opts.thresholdSources ?? {})
    .filter(([, source]) => source !== `policy:${policy}`)
    .map(([name, source]) => `; ${name} ${source}`)
    .join('');
  return detectorFromScorer({
    name: opts.name ?? 'current',
    version: `${models.duplicate ?? '?'} + ${models['coding-mismatch'] ?? '?'} (${policy}${notPolicy})`,
    tasks: { duplicate: true, coding: true },
    thresholds: { duplicate: opts.duplicateThreshold, coding: opts.codingThreshold },
    async score(inv) {
      const { decision } = await service.score(inv);
      const cause = causeOf(decision);
      return {
        ...(cause ? { cause } : {}),
        invoiceId: inv.invoice_id,
        duplicateScore: decision.scores.duplicate,
        duplicateOf: decision.duplicates[0]?.invoice_id ?? null,
        decision: decision.decision,
        lines: decision.lines.map((l) => {
          const kinds = [
            ...new Set(l.reasons.filter((r) => r.weight > 0).flatMap((r) => kindOfReason(r.code) ?? [])),
          ];
          return { lineNumber: l.line_number, score: l.coding_mismatch, ...(kinds.length ? { kinds } : {}) };
        }),
      };
    },
    ...(opts.close ? { close: opts.close } : {}),
  });
}

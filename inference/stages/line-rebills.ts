/**
 * Stage 6b, line-level duplicates: lines of an earlier invoice of the same vendor billed again
 * on a new invoice. Each line of a new invoice is compared with its line block (the earlier lines
 * of the vendor within 365 days that carry the same code or a near description,
 * `BLOCKING_SPEC.lines` in core/blocking.ts, searched by store/line-rebills.ts), and each pair is
 * scored by the line-pair model (models/line-pair.ts over features/line-pair.ts): a line is
 * re-billed when its best pair scores at or above the model's threshold, which names the
 * earlier invoice and line. Lines with and without service dates are both judged.
 *
 * What tells it from a legitimately repeated purchase is the model's: a re-bill repeats the
 * earlier line's quantity, amount and service date among lines served later, or on an invoice
 * whose other lines are new; a repeat (monthly rental, supplies ordered again) carries its own
 * later service date, repeats the rest of the earlier invoice too, and is an item the vendor
 * bills often. Figures on unseen benchmark seeds: README, "Duplicate detection", and the card
 * `models/artifacts/line-pair.md`.
 *
 * The invoice's duplicate score becomes at least {@link LINE_REBILL_SCORE} (a fixed routing
 * score above the review and below the hold thresholds of the default policy, 0.6 and 0.9, and
 * of the duplicate champion's card: AP review, not hold) with a `LINE_REBILLED` reason naming
 * the earlier invoice and its line numbers, with the model's score and features of each pair;
 * the earlier invoice joins the decision's `duplicates` list ({@link RebilledInvoice}).
 */
import type { Reason } from '../../core/decision.js';
import type { EarlierLine, LineRebillQuery } from '../../store/line-rebills.js';
import type { CandidateInvoice, ScoringTx } from '../../store/repository.js';
import { LINE_PAIR_FEATURE_NAMES, linePairVectoriser, pairLinesOf } from '../../features/line-pair.js';
import { mapInSlices } from '../../core/slices.js';
import { shippedLinePairModel, type LinePairModel } from '../../models/line-pair.js';
import { reason } from '../explain.js';
import type { DuplicatesResult, RebilledInvoice } from './duplicates.js';
import type { Prepared } from './prepare.js';

/** Duplicate score of an invoice with a re-billed line (probability-like, in [0, 1]). */
export const LINE_REBILL_SCORE = 0.85;

/** One re-billed line of the new invoice and the earlier line it repeats. */
export interface RebilledLine {
  lineNumber: number;
  earlierInvoiceId: string;
  earlierLineNumber: number;
  /** The line-pair model's score of the pair, in [0, 1]. */
  score: number;
  /** The pair's features by name (features/line-pair.ts). */
  features: Record<string, number>;
}

/** Result of {@link findLineRebills}. */
export interface LineRebillsResult {
  /** Re-billed lines, by line number (one earlier line each: the best-scoring). */
  lines: RebilledLine[];
  /** {@link LINE_REBILL_SCORE} when a line is re-billed, else 0. */
  score: number;
  /** One `LINE_REBILLED` reason per earlier invoice, or none. */
  reasons: Reason[];
  /** The earlier invoices of the re-billed lines, in the order of the reasons. */
  invoices: RebilledInvoice[];
}

const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** Pairs of the line block scored between two turns of the event loop (about a slice of lines' pairs). */
export const LINE_PAIR_SLICE = 2_000;

/**
 * The re-billed lines among a prepared invoice's line block: per line its best-scoring earlier
 * line (the first in block order on a tie), kept when the score reaches the model's threshold.
 * The pairs are scored a slice at a time with a turn of the event loop between slices
 * (core/slices.ts).
 * @throws the abort reason of `signal` when it aborts between two slices.
 */
export async function rebilledLines(
  p: Prepared,
  block: readonly EarlierLine[],
  model: LinePairModel = shippedLinePairModel(),
  signal?: AbortSignal,
): Promise<RebilledLine[]> {
  const vectorOf = linePairVectoriser(
    pairLinesOf(p.invoice, p.features.lines),
    p.invoice.invoice_date,
    block,
  );
  const scored = await mapInSlices(
    block,
    (slice) =>
      slice.map((c) => {
        const x = vectorOf(c);
        return { x, score: model.score(x) };
      }),
    { size: LINE_PAIR_SLICE, ...(signal ? { signal } : {}) },
  );
  const best = new Map<number, { i: number; score: number }>();
  block.forEach((c, i) => {
    const { score } = scored[i]!;
    const b = best.get(c.lineNumber);
    if (!b || score > b.score) best.set(c.lineNumber, { i, score });
  });
  return [...best.values()]
    .filter((b) => b.score >= model.threshold)
    .map(({ i, score }) => ({
      lineNumber: block[i]!.lineNumber,
      earlierInvoiceId: block[i]!.invoiceId,
      earlierLineNumber: block[i]!.earlierLineNumber,
      score: r4(score),
      features: Object.fromEntries(LINE_PAIR_FEATURE_NAMES.map((n, k) => [n, r4(scored[i]!.x[k]!)])),
    }))
    .sort((a, b) => a.lineNumber - b.lineNumber);
}

/** What {@link findLineRebills} asks the store for a prepared invoice, or null when it asks nothing (a memo). */
export function lineRebillQuery(p: Prepared): Omit<LineRebillQuery, 'tenantId'> | null {
  const inv = p.invoice;
  if (inv.document_type !== 'invoice') return null;
  return {
    invoiceId: inv.invoice_id,
    vendorId: inv.vendor.id,
    vendorKey: p.features.vendorKey,
    invoiceDate: inv.invoice_date,
    lines: p.lines.map((r) => ({
      lineNumber: r.line.line_number,
      code: r.features.code,
      amountCents: r.line.amount_cents,
      embedding: r.features.embedding,
    })),
  };
}

/**
 * Searches the re-billed lines of a prepared invoice (invoices only; memos are not re-billed).
 * The earlier invoices they name are taken from `known` (the invoice's duplicate candidates)
 * or, when not among them, read from the store (one statement, only when a line is re-billed).
 * @param signal checked between slices of the line block's pairs ({@link rebilledLines}).
 * @throws the abort reason of `signal` when it aborts between two slices.
 */
export async function findLineRebills(
  tx: Pick<ScoringTx, 'findEarlierLines' | 'findInvoicesById'>,
  p: Prepared,
  known: readonly CandidateInvoice[] = [],
  model: LinePairModel = shippedLinePairModel(),
  signal?: AbortSignal,
): Promise<LineRebillsResult> {
  const q = lineRebillQuery(p);
  if (!q) return { lines: [], score: 0, reasons: [], invoices: [] };
  const lines = await rebilledLines(p, await tx.findEarlierLines(q), model, signal);
  if (lines.length === 0) return { lines, score: 0, reasons: [], invoices: [] };
  const byInvoice = new Map<string, RebilledLine[]>();
  for (const l of lines) {
    const same = byInvoice.get(l.earlierInvoiceId);
    if (same) same.push(l);
    else byInvoice.set(l.earlierInvoiceId, [l]);
  }
  const candidates = new Map(known.map((c) => [c.invoiceId, c]));
  const missing = [...byInvoice.keys()].filter((id) => !candidates.has(id));
  if (missing.length > 0)
    for (const c of await tx.findInvoicesById(p.features.embedding, missing)) candidates.set(c.invoiceId, c);
  const reasons = [...byInvoice].map(([earlier, ls]) =>
    reason('LINE_REBILLED', LINE_REBILL_SCORE, {
      duplicate_of: earlier,
      model: model.version,
      lines: ls.map((l) => ({
        line_number: l.lineNumber,
        earlier_line_number: l.earlierLineNumber,
        score: l.score,
        features: l.features,
      })),
    }),
  );
  const invoices = [...byInvoice].flatMap(([earlier, ls]) => {
    const candidate = candidates.get(earlier);
    return candidate ? [{ candidate, score: LINE_REBILL_SCORE, lines: ls }] : [];
  });
  return { lines, score: LINE_REBILL_SCORE, reasons, invoices };
}

/**
 * The duplicate result with the line-level finding added: the higher of the two scores, the
 * line reasons after the pair reasons, the earlier invoices (a new value; the pair result is
 * not changed).
 */
export function withLineRebills(d: DuplicatesResult, l: LineRebillsResult): DuplicatesResult {
  if (l.reasons.length === 0) return d;
  return {
    ...d,
    score: Math.max(d.score, l.score),
    reasons: [...d.reasons, ...l.reasons],
    rebilled: [...d.rebilled, ...l.invoices],
  };
}

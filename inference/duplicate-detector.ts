/**
 * Duplicate detector, after candidate blocking (store: tenant kNN with a recall guard,
 * vendor-scoped exact kNN, exact keys): comparison vectors, the pair scorer, then
 * document-kind rules, and the evidence a reviewer needs (which earlier invoice, how the two
 * differ field by field, whether the earlier one was already approved).
 *
 * Document-kind rules (applied to whatever pair scorer runs, heuristic or trained):
 * - `credit_memo_reverses_invoice`: a credit memo and an invoice are a reversal, not a
 *   resubmission; the pair's score is capped at 0.05. A new credit memo is matched to the
 *   invoice it reverses (same vendor, credit not above what is left uncredited, best by exact
 *   amount, same PO, nearest embedding), which is recorded so that later rebills are known.
 * - `rebill_after_credit`: a new invoice resembling an earlier invoice that credit memos have
 *   fully reversed is a rebill, not a duplicate.
 *
 * Look-alike rules (evidence of two bills, whatever the pair scorer says):
 * - `separate_service_periods`: both documents carry service periods that share no day, and
 *   either one starts 1-3 days after the other ends (the next period of a recurring bill:
 *   rentals, monthly supplies) or both print the same number (a contract or payment reference
 *   printed as the invoice number on every monthly invoice). A resubmission bills the same
 *   period again.
 * - `sequential_numbers`: the same vendor, numbers of one series (same prefix, same length) 1-20
 *   apart: the vendor's next invoices, e.g. two deliveries billed the same day as BSW-20411
 *   and BSW-20412.
 *
 * A ruled-out pair's score is capped at {@link ruleScoreCap} of the policy's review threshold,
 * so it never reaches review on its own.
 */
import { BLOCKING_SPEC, vendorBillingIntervalDays } from '../core/blocking.js';
import type { DuplicateMatch } from '../core/decision.js';
import { isUnprintedNumber, type Invoice } from '../core/invoice.js';
import { MAX_SEQUENCE_STEP } from '../features/comparisons.js';
import { daysApart } from '../features/dates.js';
import { describeEdits, editScript } from '../features/edits.js';
import { compareSides, pairSideKeys, type PairComparison, type PairSide } from '../features/pair.js';
import type { CandidateInvoice } from '../store/repository.js';
import type { DuplicatePairScorer, MaybePromise, PairScore } from './scorers.js';
import type { ModelExplanation } from './explain-model.js';

/** Highest score of a pair a rule rules out (lower when the review threshold is lower, see {@link ruleScoreCap}). */
export const RULE_SCORE_CAP = 0.05;

/**
 * Score cap of ruled-out pairs under a review threshold: min(0.05, half the threshold), so a
 * ruled-out pair stays below review (the duplicate champion's review threshold is 0.027).
 * @param reviewAt the policy's duplicate review threshold, probability in [0, 1].
 */
export function ruleScoreCap(reviewAt: number): number {
  return Math.min(RULE_SCORE_CAP, Math.max(0, reviewAt) / 2);
}

/** Days a service period may start after the previous one ends and still be its next period. */
const NEXT_PERIOD_MAX_GAP_DAYS = 3;

/** One scored candidate pair. */
export interface ScoredCandidate {
  candidate: CandidateInvoice;
  comparison: PairComparison;
  /** The pair scorer's output. */
  modelScore: number;
  /** After document-kind rules. */
  score: number;
  /** Log-odds contributions by comparison, as the scorer reports them. */
  contributions: Record<string, number>;
  /** Document-kind rule that capped the score, or the scorer's own rule. */
  rule: string | null;
  /** The model's attribution of its logit, when a trained model scored the pair. */
  explanation?: ModelExplanation;
  /** Model version that scored the pair (hot-reloaded models). */
  modelVersion?: string;
  /** True when the score came from the comparison with the invoice number neutralised (see {@link assessDuplicates}). */
  invoiceNumberNeutralised?: boolean;
}

/**
 * The comparison as if the two invoice numbers agreed (raw, normalised and canonical equal, no
 * edits, no affix variant): what a misread number could have hidden.
 */
export function withInvoiceNumberNeutralised(c: PairComparison): PairComparison {
  return {
    ...c,
    invoiceNumberRawEqual: c.invoiceNumberRawEqual === null ? null : true,
    invoiceNumberEqual: true,
    invoiceNumberCanonicalEqual: true,
    invoiceNumberUnpaddedEqual: true,
    invoiceNumberCanonicalUnpaddedEqual: true,
    invoiceNumberRawEdits: c.invoiceNumberRawEdits === null ? null : 0,
    invoiceNumberEdit: 0,
    invoiceNumberCanonicalEdit: 0,
    invoiceNumberAffixVariant: false,
    invoiceNumberSequenceGap: null,
  };
}

/** The invoice a new credit memo reverses. */
export interface ReversalMatch {
  candidate: CandidateInvoice;
  /** Cents this memo credits (positive). */
  reversedCents: number;
  /** True when this memo and earlier ones credit the invoice's whole total. */
  full: boolean;
}

/** Result of {@link assessDuplicates}. */
export interface DuplicateAssessment {
  /** Every candidate, best score first. */
  scored: ScoredCandidate[];
  /** Candidates at or above the reporting threshold, at most 5. */
  reported: ScoredCandidate[];
  /** For a credit memo: the invoice it reverses, when found. */
  reversal: ReversalMatch | null;
}

const isSameVendor = (c: PairComparison): boolean => c.sameVendor || c.vendorNameJw >= 0.92;

/** The invoice a credit memo reverses among the candidates, or null. */
export function matchReversal(invoice: Invoice, scored: readonly ScoredCandidate[]): ReversalMatch | null {
  if (invoice.document_type !== 'credit_memo' || invoice.total_cents >= 0) return null;
  const credit = -invoice.total_cents;
  const eligible = scored.filter(
    (s) =>
      s.candidate.documentType === 'invoice' &&
      s.candidate.totalCents > 0 &&
      isSameVendor(s.comparison) &&
      credit <= s.candidate.totalCents - s.candidate.reversedCents + 1,
  );
  if (eligible.length === 0) return null;
  const rank = (s: ScoredCandidate): number[] => {
    const left = s.candidate.totalCents - s.candidate.reversedCents;
    return [
      Math.abs(left - credit) <= 1 || Math.abs(s.candidate.totalCents - credit) <= 1 ? 1 : 0,
      s.comparison.samePo === true ? 1 : 0,
      s.candidate.invoiceDate <= invoice.invoice_date ? 1 : 0,
      s.comparison.embeddingCosine,
    ];
  };
  const better = (a: number[], b: number[]): boolean => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
    return false;
  };
  let best = eligible[0]!;
  for (const s of eligible.slice(1)) if (better(rank(s), rank(best))) best = s;
  return {
    candidate: best.candidate,
    reversedCents: credit,
    full: best.candidate.reversedCents + credit >= best.candidate.totalCents - 1,
  };
}

/** Document-kind rule for a pair, or null. */
export function documentKindRule(invoice: Invoice, c: CandidateInvoice): string | null {
  const a = invoice.document_type;
  const b = c.documentType;
  if (a !== b && (a === 'credit_memo' || b === 'credit_memo')) return 'credit_memo_reverses_invoice';
  if (a === 'invoice' && b === 'invoice' && c.totalCents > 0 && c.reversedCents >= c.totalCents - 1)
    return 'rebill_after_credit';
  return null;
}

/** True when one period starts 1-3 days after the other ends (its next period). */
function nextPeriod(
  a: { start: string; end: string } | undefined,
  bStart: string | null,
  bEnd: string | null,
): boolean {
  if (!a || bStart === null || bEnd === null) return false;
  const after = (s: string, e: string): boolean => {
    const gap = daysApart(s, e);
    return s > e && gap >= 1 && gap <= NEXT_PERIOD_MAX_GAP_DAYS;
  };
  return after(a.start, bEnd) || after(bStart, a.end);
}

/** Look-alike rule for a pair (see the module doc), or null. */
export function lookAlikeRule(invoice: Invoice, c: CandidateInvoice, cmp: PairComparison): string | null {
  if (
    cmp.servicePeriodsDisjoint &&
    (cmp.invoiceNumberCanonicalEqual ||
      nextPeriod(invoice.service_period, c.servicePeriodStart, c.servicePeriodEnd))
  )
    return 'separate_service_periods';
  if (
    isSameVendor(cmp) &&
    cmp.invoiceNumberSequenceGap !== null &&
    cmp.invoiceNumberSequenceGap <= MAX_SEQUENCE_STEP &&
    invoice.invoice_number.trim().length === c.invoiceNumber.trim().length
  )
    return 'sequential_numbers';
  return null;
}

/**
 * Scores every candidate against the new invoice, applies the document-kind rules, matches a
 * credit memo to the invoice it reverses, and keeps the candidates worth reporting.
 *
 * When `invoiceNumberUncertain` (the extractor read the number with low confidence), each pair
 * is scored twice, as compared and with the invoice number neutralised
 * ({@link withInvoiceNumberNeutralised}), and keeps the higher score (then
 * `invoiceNumberNeutralised` is set), so a misread number cannot hide a duplicate that the
 * vendor, amounts, dates and lines show. The same holds for a pair where either side prints no
 * number (`NONUM-…`, see `UNPRINTED_NUMBER_PREFIX` in core/invoice.ts). Conversely, a pair of
 * two unrelated vendors (neither id, tax id, NPI nor name agree) whose numbers differ keeps the
 * lower of the two scores, so a look-alike number at an unrelated vendor never scores above the
 * same number at that vendor (the pair model alone is not monotone in the number's agreement).
 * @param me the new invoice's pair side; @param reportAt lowest score reported (default 0.3).
 * @param ruleCap score cap of pairs a rule rules out ({@link ruleScoreCap} of the review threshold).
 */
export async function assessDuplicates(
  invoice: Invoice,
  me: PairSide,
  candidates: readonly CandidateInvoice[],
  scorer: DuplicatePairScorer<MaybePromise<PairScore>>,
  reportAt = 0.3,
  invoiceNumberUncertain = false,
  ruleCap = RULE_SCORE_CAP,
): Promise<DuplicateAssessment> {
  // the vendor's billing rhythm from the same candidates training reads it from (core/blocking.ts)
  const intervalDays = vendorBillingIntervalDays(BLOCKING_SPEC, me, candidates);
  const mine = pairSideKeys(me);
  const comparisons = candidates.map((c) => compareSides(mine, c, 1 - c.embeddingDistance, intervalDays));
  const scoreAll = async (cs: PairComparison[]): Promise<PairScore[]> =>
    scorer.scorePairs ? await scorer.scorePairs(cs) : await Promise.all(cs.map((c) => scorer.scorePair(c)));
  const results = await scoreAll(comparisons);
  // A number the extractor misread, or none printed on either side: the number is no evidence.
  // A receipt that prints no number only counts as agreeing on it with an earlier receipt of the
  // same vendor, total and day (the exact blocking key): otherwise every number-less receipt of
  // a shop would look like a copy of every other.
  const unprintedTwin = (c: CandidateInvoice): boolean =>
    (isUnprintedNumber(me.invoiceNumber) || isUnprintedNumber(c.invoiceNumber)) &&
    c.sources.includes('exact_key') &&
    c.totalCents === invoice.total_cents &&
    c.invoiceDate === invoice.invoice_date;
  const unknownNumber = candidates.map((c) => invoiceNumberUncertain || unprintedTwin(c));
  // Vendor identity weighed consistently: at an unrelated vendor a look-alike number (an O/0
  // swap, a re-keyed digit) is no stronger evidence than the same number there, so such a pair
  // scores at most what it would with the numbers agreeing.
  const unrelatedLookAlike = comparisons.map(
    (c) => !isSameVendor(c) && (!c.invoiceNumberEqual || c.invoiceNumberRawEqual === false),
  );
  const neutral =
    unknownNumber.some(Boolean) || unrelatedLookAlike.some(Boolean)
      ? await scoreAll(comparisons.map(withInvoiceNumberNeutralised))
      : [];
  const explainers = new Map<ScoredCandidate, NonNullable<PairScore['explain']>>();
  const scored = candidates
    .map((c, i): ScoredCandidate => {
      const n = unknownNumber[i] || unrelatedLookAlike[i] ? neutral[i] : undefined;
      const useNeutral =
        n !== undefined && (unknownNumber[i] ? n.score > results[i]!.score : n.score < results[i]!.score);
      const s = useNeutral ? n : results[i]!;
      const rule = documentKindRule(invoice, c) ?? lookAlikeRule(invoice, c, comparisons[i]!);
      const out: ScoredCandidate = {
        candidate: c,
        comparison: comparisons[i]!,
        modelScore: s.score,
        score: rule ? Math.min(s.score, ruleCap) : s.score,
        contributions: s.contributions,
        rule: rule ?? s.rule,
        ...(s.explanation ? { explanation: s.explanation } : {}),
        ...(s.modelVersion ? { modelVersion: s.modelVersion } : {}),
        ...(useNeutral ? { invoiceNumberNeutralised: true } : {}),
      };
      if (s.explain) explainers.set(out, s.explain);
      return out;
    })
    .sort((a, b) => b.score - a.score || a.candidate.embeddingDistance - b.candidate.embeddingDistance);
  const reported = scored.filter((x) => x.score >= reportAt).slice(0, 5);
  // Only the best reported pair's contributions and explanation are read (reason evidence,
  // the decision's explanation): a scorer that explains on demand does it for that pair alone.
  const top = reported[0];
  const explain = top && explainers.get(top);
  if (top && explain) {
    const explained: ScoredCandidate = { ...top, ...explain() };
    reported[0] = explained;
    scored[scored.indexOf(top)] = explained;
  }
  return {
    scored,
    reported,
    reversal: matchReversal(invoice, scored),
  };
}

/**
 * Field-by-field differences between the new invoice and an earlier one: invoice number (with
 * the exact edit, e.g. `substitute '0'->'O' at 5`), vendor, dates, total (with the gap in
 * cents), currency, document type, PO, service period, and lines by code and amount (no line
 * text).
 */
export function differences(
  inv: Invoice,
  c: CandidateInvoice,
  myLineKeys: readonly string[],
): DuplicateMatch['differences'] {
  const out: DuplicateMatch['differences'] = [];
  const diff = (field: string, a: unknown, b: unknown, note?: string): void => {
    if (a !== b) out.push({ field, this_value: a, earlier_value: b, ...(note ? { note } : {}) });
  };
  diff(
    'invoice_number',
    inv.invoice_number,
    c.invoiceNumber,
    describeEdits(editScript(c.invoiceNumber, inv.invoice_number)),
  );
  diff('vendor.id', inv.vendor.id, c.vendorId);
  diff('vendor.name', inv.vendor.name, c.vendorName);
  diff('invoice_date', inv.invoice_date, c.invoiceDate);
  const dTotal = inv.total_cents - c.totalCents;
  diff('total_cents', inv.total_cents, c.totalCents, dTotal !== 0 ? `difference ${dTotal} cents` : undefined);
  diff('currency', inv.currency, c.currency);
  diff('document_type', inv.document_type, c.documentType);
  diff('po_number', inv.po_number ?? null, c.poNumber);
  diff(
    'service_period',
    inv.service_period ? `${inv.service_period.start}/${inv.service_period.end}` : null,
    c.servicePeriodStart ? `${c.servicePeriodStart}/${c.servicePeriodEnd}` : null,
  );
  diff('line_count', inv.lines.length, c.lineMatchKeys.length);
  const mine = new Set(myLineKeys);
  const theirs = new Set(c.lineMatchKeys);
  const onlyHere = [...mine].filter((k) => !theirs.has(k));
  const onlyEarlier = [...theirs].filter((k) => !mine.has(k));
  if (onlyHere.length > 0 || onlyEarlier.length > 0) {
    out.push({
      field: 'lines',
      this_value: onlyHere,
      earlier_value: onlyEarlier,
      note: `${mine.size - onlyHere.length} line(s) match by code and amount; values list the lines (code|amount_cents) found on one side only`,
    });
  }
  return out;
}

/** The response entry of a reported candidate (its score and rule; no kind, no re-billed lines). */
export function duplicateMatch(
  inv: Invoice,
  s: Pick<ScoredCandidate, 'candidate' | 'score' | 'rule'>,
  myLineKeys: readonly string[],
): DuplicateMatch {
  const c = s.candidate;
  return {
    invoice_id: c.invoiceId,
    decision_id: c.decisionId,
    earlier_decision: c.decision,
    earlier_document_type: c.documentType,
    earlier_approved: c.approval !== null,
    earlier_approval: c.approval,
    score: s.score,
    rule: s.rule,
    match_sources: c.sources,
    differences: differences(inv, c, myLineKeys),
  };
}

/**
 * Priority of an exception: the expected cost, in dollars, of leaving it unworked.
 *
 *     priority(t) = expected_loss + discount_value(t) + sla_age_cost(t)
 *
 * 1. **Expected loss** (fixed when the invoice is scored), the largest of
 *    - duplicate: P(duplicate) x |total|;
 *    - coding and billing: sum over lines of r_i x |line amount_i|, where r_i is the line's
 *      coding-mismatch score or, if higher, the weight of a coding rule on the line
 *      (`CODE_OUTSIDE_VENDOR_PROFILE`), plus weight x |gap| of each `LINE_AMOUNT_MISMATCH` and
 *      `TOTAL_MISMATCH`;
 *    - compliance: the weight of `NPI_INVALID` or `NEGATIVE_TOTAL` x |total|.
 *    The maximum (not the sum) because the risks overlap: a duplicate loses the whole total,
 *    coding errors included. A credit memo pays nothing, so nothing is lost by leaving it
 *    unworked: its expected loss is 0 (as its discount value: the terms need a positive total).
 * 2. **Discount value** of early-payment terms (`2/10 net 30`: `discount_percent` 2 within
 *    `discount_days` 10): discount_cents = round(|total| x percent / 100), available until
 *    the deadline invoice_date + discount_days. As of day t it is worth
 *    discount_cents / (1 + days_left) while days_left = deadline - t >= 0 (the whole discount
 *    on the deadline day, half the day before...), and 0 once the deadline has passed.
 * 3. **SLA age cost**: sla_cents_per_day x max(0, t - received_date), with the rate from the
 *    routing policy (`priority.sla_cents_per_day`, default 200 = $2.00 per day) and
 *    received_date the invoice's `received_date`, else the day it was scored.
 *
 * The worklist computes the same formula in SQL as of the day it is read
 * (`store/worklist.ts`); a decision's `priority` is its value on the day it was scored.
 * Components are kept in integer cents; the total is rounded to 2 decimals of a cent.
 *
 * Currency: amounts are the invoice's minor units (`amount_cents` of its `currency`), never
 * converted: "dollars" is minor units / 100 whatever the currency, so at full risk a KWD total
 * (3 decimals, KWD 12.345 = 12 345) counts 123.45 and a JPY one (no decimals, JPY 1 000 = 1 000)
 * 10.00, while the SLA age cost is in the policy's cents. Priorities of invoices in different
 * currencies are not comparable; the CMS fee schedules (USD) are not used for a non-USD invoice
 * (features/reference-index.ts `feeNotComparable`).
 */
import type { Reason } from '../core/decision.js';
import type { DocumentType, PaymentTerms } from '../core/invoice.js';
import { epochDay } from '../features/dates.js';

/** Parts of the priority fixed at scoring time. Money in integer cents, dates `YYYY-MM-DD`. */
export interface PriorityComponents {
  expectedLossCents: number;
  discountCents: number;
  discountDeadline: string | null;
  receivedDate: string;
  slaCentsPerDay: number;
}

/** What the expected loss is computed from. Money in cents; scores in [0, 1]. */
export interface PriorityInputs {
  totalCents: number;
  /** `credit_memo`: nothing is paid, expected loss 0; absent: `invoice`. */
  documentType?: DocumentType | undefined;
  duplicateScore: number;
  lines: readonly { amountCents: number; codingScore: number | null; ruleWeight?: number }[];
  /** Invoice-level reasons (LINE_AMOUNT_MISMATCH, TOTAL_MISMATCH, NPI_INVALID...). */
  reasons: readonly Reason[];
  invoiceDate: string;
  paymentTerms?: PaymentTerms | undefined;
  receivedDate: string;
  slaCentsPerDay: number;
}

/** The priority as of a day, in cents (components and total). */
export interface PriorityAsOf {
  expectedLossCents: number;
  discountValueCents: number;
  slaAgeCents: number;
  totalCents: number;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** ISO date `days` after `iso`. */
export function addDays(iso: string, days: number): string {
  return new Date((epochDay(iso) + days) * 86_400_000).toISOString().slice(0, 10);
}

/** Expected loss in cents (see the module doc, term 1), rounded to whole cents. */
export function expectedLossCents(
  p: Pick<PriorityInputs, 'totalCents' | 'documentType' | 'duplicateScore' | 'lines' | 'reasons'>,
): number {
  if (p.documentType === 'credit_memo') return 0;
  const total = Math.abs(p.totalCents);
  const dup = p.duplicateScore * total;
  let coding = 0;
  for (const l of p.lines)
    coding += Math.max(l.codingScore ?? 0, l.ruleWeight ?? 0) * Math.abs(l.amountCents);
  let compliance = 0;
  for (const r of p.reasons) {
    if (r.code === 'LINE_AMOUNT_MISMATCH' || r.code === 'TOTAL_MISMATCH')
      coding += r.weight * Math.abs(Number(r.evidence.gap_cents ?? 0));
    else if (r.code === 'NPI_INVALID' || r.code === 'NEGATIVE_TOTAL')
      compliance = Math.max(compliance, r.weight * total);
  }
  return Math.round(Math.max(dup, coding, compliance));
}

/** The fixed components of an invoice's priority. */
export function priorityComponents(p: PriorityInputs): PriorityComponents {
  const t = p.paymentTerms;
  const hasDiscount =
    t !== undefined && (t.discount_percent ?? 0) > 0 && t.discount_days !== undefined && p.totalCents > 0;
  return {
    expectedLossCents: expectedLossCents(p),
    discountCents: hasDiscount ? Math.round((Math.abs(p.totalCents) * t!.discount_percent!) / 100) : 0,
    discountDeadline: hasDiscount ? addDays(p.invoiceDate, t!.discount_days!) : null,
    receivedDate: p.receivedDate,
    slaCentsPerDay: p.slaCentsPerDay,
  };
}

/** The priority as of day `asOf` (`YYYY-MM-DD`), in cents; see the module doc. */
export function priorityAsOf(c: PriorityComponents, asOf: string): PriorityAsOf {
  const today = epochDay(asOf);
  let discount = 0;
  if (c.discountDeadline !== null && c.discountCents > 0) {
    const left = epochDay(c.discountDeadline) - today;
    if (left >= 0) discount = c.discountCents / (1 + left);
  }
  const sla = c.slaCentsPerDay * Math.max(0, today - epochDay(c.receivedDate));
  return {
    expectedLossCents: c.expectedLossCents,
    discountValueCents: round2(discount),
    slaAgeCents: sla,
    totalCents: round2(c.expectedLossCents + discount + sla),
  };
}

/**
 * The formula in one line, quoted in explanations (a credit memo's expected loss is 0, see the
 * module doc; not in this text, which every stored explanation quotes).
 */
export const PRIORITY_FORMULA =
  'expected_loss + discount_cents / (1 + days_to_discount_deadline) [0 after the deadline] + ' +
  'sla_cents_per_day x days_since_received; expected_loss = max(P(dup) x |total|, ' +
  'sum_lines max(P(coding), rule weight) x |amount| + weight x |arithmetic gaps|, compliance weight x |total|)';

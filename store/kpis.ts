/**
 * Operations KPIs of the review console's dashboard, over one tenant's decisions. The store
 * reads one fact row per decision ({@link DecisionFact}, {@link listDecisionFacts}); every
 * figure is a pure function of those rows, so each can be checked against values worked out
 * by hand (test/kpis.test.ts). Definitions, as this service can measure them today:
 *
 * - **straight-through rate**: invoices routed `AUTO_APPROVE` (nobody touched them) / invoices;
 * - **first-pass match rate**: invoices whose first (and only) scoring raised no reason code at
 *   all (codes, amounts, totals and vendor checks matched; no duplicate candidate) / invoices;
 * - **manual touch rate**: invoices with at least one review / invoices;
 * - **exception aging**: open exceptions at each period's end by days since received
 *   (0-2, 3-5, 6-10, 11+);
 * - **discount capture**: of invoices with early-payment terms (`payment_terms.discount_percent`),
 *   those cleared for payment by the discount deadline (auto-approved when scored on or before
 *   it, or closed as a false alarm on or before it), by count and cents;
 * - **blocked by root cause**: invoices not auto-approved, per reason code;
 * - **review load**: per queue, items opened, closed and still open at the period's end;
 * - **auto-approve rate vs certified bound**: the share auto-approved, and among auto-approved
 *   invoices a reviewer looked at, the share confirmed as exceptions, beside each served model
 *   card's Learn-then-Test bound (alpha, delta);
 * - **score distributions**: counts of coding-mismatch and duplicate scores in ten bins of 0.1.
 *
 * Periods are UTC days, ISO weeks (from Monday) or months of the invoice's received date
 * (`date_field=received`, the day AP received it, default the day it was scored) or invoice date.
 */
import type { SqlExecutor } from './sql.js';

/** One decision as the KPIs see it. Dates `YYYY-MM-DD`; money in cents. */
export interface DecisionFact {
  decision_id: string;
  /** The day the period is taken from (received date or invoice date, see {@link FactQuery}). */
  day: string;
  received_date: string;
  facility_id: string | null;
  vendor_id: string;
  decision: 'AUTO_APPROVE' | 'REVIEW' | 'HOLD';
  queue: string | null;
  reason_codes: string[];
  coding_mismatch_score: number;
  duplicate_score: number;
  /** `open`, `closed`, or null for an auto-approved invoice. */
  review_status: 'open' | 'closed' | null;
  /** Day the item was closed by a review, else null. */
  closed_day: string | null;
  /** Outcome of the review that closed the item, else null. */
  closing_outcome: string | null;
  /** Number of reviews recorded on the decision. */
  reviews: number;
  /** True when a review confirmed an exception (confirmed or corrected_code, on a scored task). */
  confirmed_exception: boolean;
  /** Early-payment discount offered, cents (0 when the invoice has no discount terms). */
  discount_cents: number;
  discount_deadline: string | null;
  /** Day the decision was made (scored). */
  scored_day: string;
}

/** Which date places an invoice in a period. */
export type DateField = 'received' | 'invoice';
/** Period length. */
export type Bucket = 'day' | 'week' | 'month';
/** Series split. */
export type GroupBy = 'none' | 'facility' | 'vendor';

/** Query of {@link listDecisionFacts}: dates inclusive, `YYYY-MM-DD`. */
export interface FactQuery {
  tenantId: string;
  from: string;
  to: string;
  dateField: DateField;
}

/** Reads one fact row per decision of the tenant whose date falls in [from, to]. */
export async function listDecisionFacts(db: SqlExecutor, q: FactQuery): Promise<DecisionFact[]> {
  const dayExpr =
    q.dateField === 'invoice' ? 'i.invoice_date' : 'COALESCE(d.received_date, d.created_at::date)';
  const rows = await db.query(
    `SELECT d.id::text AS decision_id, (${dayExpr})::text AS day,
       COALESCE(d.received_date, d.created_at::date)::text AS received_date,
       i.facility_id, i.vendor_id, d.decision, d.queue, d.reason_codes,
       d.coding_mismatch_score, d.duplicate_score, d.review_status,
       (d.closed_at AT TIME ZONE 'UTC')::date::text AS closed_day,
       (SELECT r.outcome FROM reviews r WHERE r.id = d.closed_by_review) AS closing_outcome,
       (SELECT count(*) FROM reviews r WHERE r.decision_id = d.id)::int AS reviews,
       EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.id AND r.task <> 'other'
               AND r.outcome IN ('confirmed', 'corrected_code')) AS confirmed_exception,
       d.discount_cents::text AS discount_cents, d.discount_deadline::text AS discount_deadline,
       (d.created_at AT TIME ZONE 'UTC')::date::text AS scored_day
     FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk
     WHERE d.tenant_id = $1 AND ${dayExpr} BETWEEN $2::date AND $3::date
     ORDER BY ${dayExpr}, d.id`,
    [q.tenantId, q.from, q.to],
  );
  return rows.map((r) => ({
    decision_id: String(r.decision_id),
    day: String(r.day),
    received_date: String(r.received_date),
    facility_id: (r.facility_id as string | null) ?? null,
    vendor_id: String(r.vendor_id),
    decision: r.decision as DecisionFact['decision'],
    queue: (r.queue as string | null) ?? null,
    reason_codes: r.reason_codes as string[],
    coding_mismatch_score: Number(r.coding_mismatch_score),
    duplicate_score: Number(r.duplicate_score),
    review_status: (r.review_status as DecisionFact['review_status']) ?? null,
    closed_day: (r.closed_day as string | null) ?? null,
    closing_outcome: (r.closing_outcome as string | null) ?? null,
    reviews: Number(r.reviews),
    confirmed_exception: Boolean(r.confirmed_exception),
    discount_cents: Number(r.discount_cents),
    discount_deadline: (r.discount_deadline as string | null) ?? null,
    scored_day: String(r.scored_day),
  }));
}

const DAY_MS = 86_400_000;
const toDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const msOf = (day: string): number => Date.parse(`${day}T00:00:00Z`);
/** Whole days from `a` to `b` (b - a). */
export const daysBetween = (a: string, b: string): number => Math.round((msOf(b) - msOf(a)) / DAY_MS);

/** First day of the period holding `day`: itself, the Monday of its ISO week, or the 1st of its month. */
export function periodOf(day: string, bucket: Bucket): string {
  if (bucket === 'day') return day;
  if (bucket === 'month') return `${day.slice(0, 7)}-01`;
  const ms = msOf(day);
  const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  return toDay(ms - weekday * DAY_MS);
}

/** Last day of the period starting at `start`. */
export function periodEnd(start: string, bucket: Bucket): string {
  if (bucket === 'day') return start;
  if (bucket === 'week') return toDay(msOf(start) + 6 * DAY_MS);
  const d = new Date(msOf(start));
  return toDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
}

/** Every period start from the period of `from` to the period of `to`. */
export function periodsBetween(from: string, to: string, bucket: Bucket): string[] {
  const out: string[] = [];
  // Compared as instants: as text, the day after 9999-12-31 ('+010000-01-01') sorts first.
  const last = msOf(to);
  for (let p = periodOf(from, bucket); msOf(p) <= last; p = toDay(msOf(periodEnd(p, bucket)) + DAY_MS))
    out.push(p);
  return out;
}

const groupOf = (f: DecisionFact, by: GroupBy): string =>
  by === 'facility' ? (f.facility_id ?? '(no facility)') : by === 'vendor' ? f.vendor_id : 'all';

/** Groups facts by period start and series group, in period order. */
function byPeriodAndGroup(
  facts: readonly DecisionFact[],
  bucket: Bucket,
  by: GroupBy,
): Map<string, Map<string, DecisionFact[]>> {
  const out = new Map<string, Map<string, DecisionFact[]>>();
  for (const f of facts) {
    const p = periodOf(f.day, bucket);
    const groups = out.get(p) ?? new Map<string, DecisionFact[]>();
    const g = groupOf(f, by);
    groups.set(g, [...(groups.get(g) ?? []), f]);
    out.set(p, groups);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** One point of a rate series: `count` of `n` invoices; `rate` null when n is 0. */
export interface RatePoint {
  period: string;
  group: string;
  n: number;
  count: number;
  rate: number | null;
}

/** The rate KPIs: what each counts (numerator over all invoices of the period and group). */
export const RATE_KPIS = {
  'straight-through': {
    title: 'Straight-through rate',
    definition: 'Invoices routed AUTO_APPROVE (no person touched them) / invoices.',
    counts: (f: DecisionFact) => f.decision === 'AUTO_APPROVE',
  },
  'first-pass-match': {
    title: 'First-pass match rate',
    definition:
      'Invoices whose first scoring raised no reason code (codes, amounts, totals and vendor checks matched; no duplicate candidate) / invoices.',
    counts: (f: DecisionFact) => f.reason_codes.length === 0,
  },
  'manual-touch': {
    title: 'Manual touch rate',
    definition: 'Invoices with at least one review / invoices.',
    counts: (f: DecisionFact) => f.reviews > 0,
  },
} as const satisfies Record<
  string,
  { title: string; definition: string; counts: (f: DecisionFact) => boolean }
>;
export type RateKpi = keyof typeof RATE_KPIS;

const ratio = (count: number, n: number): number | null => (n === 0 ? null : count / n);

/** A rate KPI per period and group. */
export function rateSeries(
  facts: readonly DecisionFact[],
  kpi: RateKpi,
  bucket: Bucket,
  by: GroupBy,
): RatePoint[] {
  const out: RatePoint[] = [];
  for (const [period, groups] of byPeriodAndGroup(facts, bucket, by))
    for (const [group, fs] of groups) {
      const count = fs.filter(RATE_KPIS[kpi].counts).length;
      out.push({ period, group, n: fs.length, count, rate: ratio(count, fs.length) });
    }
  return out;
}

/** Age bands of open exceptions, days since received (inclusive bounds; the last is open-ended). */
export const AGE_BANDS = [
  { band: '0-2', min: 0, max: 2 },
  { band: '3-5', min: 3, max: 5 },
  { band: '6-10', min: 6, max: 10 },
  { band: '11+', min: 11, max: Number.POSITIVE_INFINITY },
] as const;

/** Open exceptions of a group at a period's end, counted per age band; also how many are past the SLA. */
export interface AgingPoint {
  period: string;
  as_of: string;
  group: string;
  bands: Record<(typeof AGE_BANDS)[number]['band'], number>;
  open: number;
  past_sla: number;
}

/**
 * Exceptions open at the end of each period (received on or before it, not closed by then), by
 * age in days since received; `past_sla` counts those older than `slaDays`. A period's end
 * after `today` is taken as `today`.
 */
export function exceptionAging(
  facts: readonly DecisionFact[],
  periods: readonly string[],
  bucket: Bucket,
  by: GroupBy,
  slaDays: number,
  today: string,
): AgingPoint[] {
  const out: AgingPoint[] = [];
  const exceptions = facts.filter((f) => f.decision !== 'AUTO_APPROVE');
  for (const period of periods) {
    const end = periodEnd(period, bucket);
    const asOf = end < today ? end : today;
    const groups = new Map<string, AgingPoint>();
    for (const f of exceptions) {
      if (f.received_date > asOf || (f.closed_day !== null && f.closed_day <= asOf)) continue;
      const group = groupOf(f, by);
      const p = groups.get(group) ?? {
        period,
        as_of: asOf,
        group,
        bands: { '0-2': 0, '3-5': 0, '6-10': 0, '11+': 0 },
        open: 0,
        past_sla: 0,
      };
      const age = daysBetween(f.received_date, asOf);
      const band = AGE_BANDS.find((b) => age >= b.min && age <= b.max) ?? AGE_BANDS[0];
      p.bands[band.band]++;
      p.open++;
      if (age > slaDays) p.past_sla++;
      groups.set(group, p);
    }
    out.push(...[...groups.values()].sort((a, b) => a.group.localeCompare(b.group)));
  }
  return out;
}

/** Discount capture of one period and group; rates null when no invoice offered a discount. */
export interface DiscountPoint {
  period: string;
  group: string;
  offered: number;
  captured: number;
  offered_cents: number;
  captured_cents: number;
  rate: number | null;
  cents_rate: number | null;
}

/** True when the invoice was cleared for payment by its discount deadline (see module doc). */
export function discountCaptured(f: DecisionFact): boolean {
  if (f.discount_cents <= 0 || f.discount_deadline === null) return false;
  if (f.decision === 'AUTO_APPROVE') return f.scored_day <= f.discount_deadline;
  return (
    f.closing_outcome === 'false_positive' && f.closed_day !== null && f.closed_day <= f.discount_deadline
  );
}

/** Discount capture per period and group, over the invoices that offered a discount. */
export function discountCapture(
  facts: readonly DecisionFact[],
  bucket: Bucket,
  by: GroupBy,
): DiscountPoint[] {
  const out: DiscountPoint[] = [];
  for (const [period, groups] of byPeriodAndGroup(facts, bucket, by))
    for (const [group, fs] of groups) {
      const offered = fs.filter((f) => f.discount_cents > 0);
      const captured = offered.filter(discountCaptured);
      const cents = (xs: DecisionFact[]) => xs.reduce((a, f) => a + f.discount_cents, 0);
      out.push({
        period,
        group,
        offered: offered.length,
        captured: captured.length,
        offered_cents: cents(offered),
        captured_cents: cents(captured),
        rate: ratio(captured.length, offered.length),
        cents_rate: ratio(cents(captured), cents(offered)),
      });
    }
  return out;
}

/** Invoices not auto-approved, per period and reason code (an invoice counts once per code). */
export function blockedByReason(
  facts: readonly DecisionFact[],
  bucket: Bucket,
): { period: string; reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const f of facts) {
    if (f.decision === 'AUTO_APPROVE') continue;
    for (const code of new Set(f.reason_codes)) {
      const k = `${periodOf(f.day, bucket)}\u0000${code}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .map(([k, count]) => {
      const [period, reason] = k.split('\u0000') as [string, string];
      return { period, reason, count };
    })
    .sort(
      (a, b) => a.period.localeCompare(b.period) || b.count - a.count || a.reason.localeCompare(b.reason),
    );
}

/** Review load of one queue in one period. */
export interface LoadPoint {
  period: string;
  queue: string;
  /** Exceptions received in the period. */
  opened: number;
  /** Items closed by a review in the period. */
  closed: number;
  /** Items received by the period's end and not closed by then. */
  open_at_end: number;
}

/** Review load per queue and period. */
export function reviewLoad(
  facts: readonly DecisionFact[],
  periods: readonly string[],
  bucket: Bucket,
): LoadPoint[] {
  const exceptions = facts.filter((f) => f.decision !== 'AUTO_APPROVE' && f.queue !== null);
  const queues = [...new Set(exceptions.map((f) => f.queue!))].sort();
  const out: LoadPoint[] = [];
  for (const period of periods) {
    const end = periodEnd(period, bucket);
    for (const queue of queues) {
      const q = exceptions.filter((f) => f.queue === queue);
      out.push({
        period,
        queue,
        opened: q.filter((f) => periodOf(f.received_date, bucket) === period).length,
        closed: q.filter((f) => f.closed_day !== null && periodOf(f.closed_day, bucket) === period).length,
        open_at_end: q.filter((f) => f.received_date <= end && (f.closed_day === null || f.closed_day > end))
          .length,
      });
    }
  }
  return out;
}

/** A served model card's auto-approve guarantee (Learn-then-Test). */
export interface CertifiedBound {
  /** `name@version`. */
  model: string;
  /** Bound on P(exception | auto-approved by this model's threshold). */
  alpha: number;
  /** The bound holds with probability 1 - delta. */
  delta: number;
  threshold: number;
  /** Share auto-approved on the card's test split. */
  coverage_test: number | null;
  /** Exception rate among auto-approved invoices on the card's test split. */
  risk_test: number | null;
}

/** Auto-approval in one period. */
export interface AutoApprovePoint {
  period: string;
  n: number;
  auto_approved: number;
  auto_approve_rate: number | null;
  /** Auto-approved invoices a reviewer labelled. */
  reviewed: number;
  /** Of those, confirmed exceptions. */
  confirmed_exceptions: number;
  /** confirmed_exceptions / reviewed (null when none reviewed): compare with the bounds' alpha. */
  observed_exception_rate: number | null;
}

/** Auto-approve rate per period with the observed exception rate among reviewed auto-approvals. */
export function autoApproveSeries(facts: readonly DecisionFact[], bucket: Bucket): AutoApprovePoint[] {
  const out: AutoApprovePoint[] = [];
  for (const [period, groups] of byPeriodAndGroup(facts, bucket, 'none')) {
    const fs = groups.get('all') ?? [];
    const auto = fs.filter((f) => f.decision === 'AUTO_APPROVE');
    const reviewed = auto.filter((f) => f.reviews > 0);
    const confirmed = reviewed.filter((f) => f.confirmed_exception).length;
    out.push({
      period,
      n: fs.length,
      auto_approved: auto.length,
      auto_approve_rate: ratio(auto.length, fs.length),
      reviewed: reviewed.length,
      confirmed_exceptions: confirmed,
      observed_exception_rate: ratio(confirmed, reviewed.length),
    });
  }
  return out;
}

/** Number of score bins of {@link scoreDistributions} (width 0.1; a score of 1 falls in the last). */
export const SCORE_BINS = 10;

/** Counts of each score in ten bins of width 0.1, per period. */
export function scoreDistributions(
  facts: readonly DecisionFact[],
  bucket: Bucket,
): { period: string; score: 'coding_mismatch' | 'duplicate'; bins: number[] }[] {
  const out: { period: string; score: 'coding_mismatch' | 'duplicate'; bins: number[] }[] = [];
  const bin = (x: number) => Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(x * SCORE_BINS)));
  for (const [period, groups] of byPeriodAndGroup(facts, bucket, 'none')) {
    const fs = groups.get('all') ?? [];
    for (const score of ['coding_mismatch', 'duplicate'] as const) {
      const bins = new Array<number>(SCORE_BINS).fill(0);
      for (const f of fs)
        bins[bin(score === 'coding_mismatch' ? f.coding_mismatch_score : f.duplicate_score)]!++;
      out.push({ period, score, bins });
    }
  }
  return out;
}

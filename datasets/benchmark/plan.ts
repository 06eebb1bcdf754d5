/**
 * Planning of one split: the date-ordered stream of base invoices ("slots", replayable from the
 * seed) and the "lanes" that decide which originals get which derived kind, with exact quotas
 * per kind from the rates (selection sampling over the originals that qualify).
 */
import { fnv1a32 } from '../../features/hashing.js';
import { Rng, cumulative } from '../synth.js';
import { zeros } from './counts.js';
import { drawLineCount } from './invoices.js';
import { PROFILES } from './profiles.js';
import {
  DUPLICATE_KINDS,
  HARD_NEGATIVE_KINDS,
  type BenchmarkRates,
  type BenchmarkSplit,
  type DuplicateKind,
  type HardNegativeKind,
} from './types.js';
import { numberFormatReusable, type BenchmarkVendor } from './vendors.js';

/** Derived kinds drawn at an original invoice ("lanes"); rebills follow their credit memo. */
export const LANE_KINDS = [
  ...DUPLICATE_KINDS,
  ...HARD_NEGATIVE_KINDS.filter((k) => k !== 'rebill_after_credit'),
] as const;
/** A derived kind drawn at an original invoice. */
export type LaneKind = (typeof LANE_KINDS)[number];

/** Days an original needs before its window ends for each derived kind (longest delay + AP lag). */
const HORIZON: Record<LaneKind, number> = {
  exact_resubmission: 66,
  rekeyed_number: 66,
  date_shifted: 56,
  vendor_variant: 66,
  partial_resubmission: 96,
  line_level_duplicate: 81,
  amount_rounding_or_tax: 51,
  recurring_monthly: 70,
  credit_memo_reversal: 92,
  number_reused_years_later: 400,
  same_amount_date_other_vendor: 8,
  separate_partial_shipment: 27,
};

/** A 32-bit seed for one named random stream of a run. */
export function subSeed(seed: number, stream: string): number {
  return fnv1a32(`${seed}:${stream}`);
}

/** One planned base invoice. */
export interface Slot {
  day: number;
  vendor: number;
  lines: number;
  lane: number;
}

/** A split to generate: its window (day numbers), invoice target and vendors with cumulative volume weights. */
export interface SplitPlan {
  split: BenchmarkSplit;
  window: { start: number; end: number };
  target: number;
  vendors: BenchmarkVendor[];
  cumVolume: number[];
}

/** The date-ordered base invoices of a split (replayable: same seed, same stream). */
export function* planSlots(seed: number, plan: SplitPlan, nBase: number): Generator<Slot> {
  const rng = new Rng(subSeed(seed, `plan:${plan.split}`));
  const len = plan.window.end - plan.window.start + 1;
  for (let i = 0; i < nBase; i++) {
    const day = plan.window.start + Math.floor(((i + rng.float()) * len) / nBase);
    const vendor = rng.weightedIndex(plan.cumVolume);
    const profile = PROFILES[(plan.vendors[vendor] as BenchmarkVendor).service_line];
    const lines = drawLineCount(profile, rng);
    yield { day, vendor, lines, lane: rng.float() };
  }
}

/** True when the slot's original can carry `kind` (enough days left in the window, right profile). */
export function eligible(kind: LaneKind, slot: Slot, v: BenchmarkVendor, windowEnd: number): boolean {
  if (slot.day + HORIZON[kind] > windowEnd) return false;
  const profile = PROFILES[v.service_line];
  switch (kind) {
    case 'partial_resubmission':
      return slot.lines >= 2;
    case 'recurring_monthly':
      return profile.dating === 'period';
    case 'number_reused_years_later':
      return numberFormatReusable(v.invoice_number.format);
    case 'separate_partial_shipment':
      return profile.goods && profile.dating !== 'period' && slot.lines >= 2;
    default:
      return true;
  }
}

/** Lane probabilities and exact quotas of a split. */
export interface Lanes {
  nBase: number;
  quota: Record<LaneKind, number>;
  rebills: number;
  cumLane: number[];
  laneCount: Record<LaneKind, number>;
}

/** The rate of a derived kind (a duplicate or hard-negative share of the invoices). */
export function rateOf(rates: BenchmarkRates, kind: LaneKind | 'rebill_after_credit'): number {
  return (DUPLICATE_KINDS as readonly string[]).includes(kind)
    ? rates.duplicate[kind as DuplicateKind]
    : rates.hard_negative[kind as HardNegativeKind];
}

/**
 * Plans the derived counts of a split: quotas from the rates, capped by how many originals
 * qualify; lane probabilities so that each kind's lane holds about 3x its quota.
 */
export function planLanes(seed: number, plan: SplitPlan, rates: BenchmarkRates): Lanes {
  const want = zeros(LANE_KINDS);
  for (const k of LANE_KINDS) want[k] = Math.round(plan.target * rateOf(rates, k));
  const wantRebills = Math.min(
    want.credit_memo_reversal,
    Math.round(plan.target * rates.hard_negative.rebill_after_credit),
  );
  let quota = { ...want };
  let rebills = wantRebills;
  let result: Lanes | null = null;
  for (let iteration = 0; iteration < 8; iteration++) {
    const derived = LANE_KINDS.reduce((s, k) => s + quota[k], 0) + rebills;
    const nBase = plan.target - derived;
    if (nBase < 1)
      throw new Error(`rates too high: ${derived} derived invoices of ${plan.target} in ${plan.split}`);
    const elig = zeros(LANE_KINDS);
    for (const slot of planSlots(seed, plan, nBase)) {
      const v = plan.vendors[slot.vendor] as BenchmarkVendor;
      for (const k of LANE_KINDS) if (eligible(k, slot, v, plan.window.end)) elig[k]++;
    }
    // Each lane holds about 3x its quota (at least quota + 8) of qualifying originals.
    const pi = LANE_KINDS.map((k) =>
      elig[k] > 0 && want[k] > 0 ? Math.min(0.9, Math.max(3 * want[k], want[k] + 8) / elig[k]) : 0,
    );
    const sum = pi.reduce((a, b) => a + b, 0);
    const scale = sum > 0.95 ? 0.95 / sum : 1;
    const cumLane = cumulative(pi.map((p) => p * scale));
    const laneCount = zeros(LANE_KINDS);
    for (const slot of planSlots(seed, plan, nBase)) {
      const k = laneOf(cumLane, slot.lane);
      if (k && eligible(k, slot, plan.vendors[slot.vendor] as BenchmarkVendor, plan.window.end))
        laneCount[k]++;
    }
    const next = zeros(LANE_KINDS);
    for (const k of LANE_KINDS) next[k] = Math.min(want[k], laneCount[k]);
    const nextRebills = Math.min(wantRebills, next.credit_memo_reversal);
    result = { nBase, quota, rebills, cumLane, laneCount };
    const stable = LANE_KINDS.every((k) => next[k] === quota[k]) && nextRebills === rebills;
    if (stable) return result;
    // Fewer originals qualify than the rates ask for: plan again with more base invoices.
    quota = next;
    rebills = nextRebills;
  }
  // Not settled (tiny splits): keep the last plan, capped by what its lanes can hold.
  const last = result as Lanes;
  for (const k of LANE_KINDS) last.quota[k] = Math.min(last.quota[k], last.laneCount[k]);
  last.rebills = Math.min(last.rebills, last.quota.credit_memo_reversal);
  return last;
}

/** The lane a slot's uniform draw `u` falls in, or null (most slots carry no derived kind). */
export function laneOf(cumLane: readonly number[], u: number): LaneKind | null {
  for (let i = 0; i < cumLane.length; i++) if (u < (cumLane[i] as number)) return LANE_KINDS[i] as LaneKind;
  return null;
}

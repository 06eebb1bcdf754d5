/**
 * Stage 2b, baseline evidence: each quantity or price reason of a line says which baseline it
 * was judged against: the vendor's own (`vendor_history`, with its median and the number of
 * observations) when the tenant's history of the vendor and code holds at least
 * {@link MIN_BASELINE_OBSERVATIONS} of them, else the reference data (`reference`: the typical
 * quantities of the model's training run, the CMS fee schedule), with the vendor's observations
 * so far. Pure; returns new line records.
 */
import { hcpcsCode, MIN_BASELINE_OBSERVATIONS, type RobustBaseline } from '../../features/baselines.js';
import type { Reason } from '../explain.js';
import type { ScoringContext } from '../scorers.js';
import type { LineRecord } from './types.js';

/** Which baseline a reason rests on, as stated in its evidence. */
export interface BaselineEvidence {
  source: 'vendor_history' | 'reference';
  /** The vendor's observations of this code (quantity or unit price). */
  observations: number;
  /** The vendor's median (quantity units, or unit price cents) when `source` is vendor_history. */
  median?: number;
}

/** The baseline a check uses: the vendor's when it rests on enough observations, else none (reference). */
export function usableBaseline(b: RobustBaseline | null | undefined): RobustBaseline | null {
  return b && b.observations >= MIN_BASELINE_OBSERVATIONS ? b : null;
}

function evidenceOf(b: RobustBaseline | null | undefined): BaselineEvidence {
  const use = usableBaseline(b);
  return use
    ? {
        source: 'vendor_history',
        observations: use.observations,
        median: Math.round(use.median * 1000) / 1000,
      }
    : { source: 'reference', observations: b?.observations ?? 0 };
}

const KEY: Partial<Record<Reason['code'], { field: string; of: 'quantity' | 'unitPrice' }>> = {
  QUANTITY_IMPLAUSIBLE: { field: 'quantity_baseline', of: 'quantity' },
  PRICE_ABOVE_FEE_SCHEDULE: { field: 'unit_price_baseline', of: 'unitPrice' },
  PRICE_BELOW_FEE_SCHEDULE: { field: 'unit_price_baseline', of: 'unitPrice' },
};

/** The line records with baseline evidence on their quantity and price reasons. */
export function withBaselineEvidence(lines: readonly LineRecord[], context: ScoringContext): LineRecord[] {
  return lines.map((rec) => {
    const code = hcpcsCode(rec.line);
    if (code === null || !rec.score.reasons.some((r) => KEY[r.code])) return rec;
    const b = context.vendorBaselines?.get(code);
    const reasons = rec.score.reasons.map((r) => {
      const k = KEY[r.code];
      return k ? { ...r, evidence: { ...r.evidence, [k.field]: evidenceOf(b?.[k.of]) } } : r;
    });
    return { ...rec, score: { ...rec.score, reasons } };
  });
}

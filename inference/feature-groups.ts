/**
 * Feature groups of the served models' explanations: the line features grouped by what they
 * judge (each group with the reason code a positive contribution supports) and the pair features
 * grouped by comparison. Every grouping covers each feature of a model exactly once.
 */
import type { ReasonCode } from '../core/decision.js';
import type { FeatureGroup } from './explain-model.js';

/** A rule of a grouping: features whose name matches `match` form the group `name`. */
export interface GroupRule {
  name: string;
  match: RegExp;
  reason?: ReasonCode;
}

/**
 * Groups feature names by the first rule that matches each; names no rule matches go to the
 * group `other`. Groups keep the order of the rules and are dropped when empty, so a grouping
 * always covers every feature of a model exactly once, whatever the schema version.
 */
export function groupFeatures(names: readonly string[], rules: readonly GroupRule[]): FeatureGroup[] {
  const members = new Map<string, string[]>();
  for (const n of names) {
    const rule = rules.find((r) => r.match.test(n));
    const g = rule?.name ?? 'other';
    members.set(g, [...(members.get(g) ?? []), n]);
  }
  const out: FeatureGroup[] = [];
  for (const r of [...rules, { name: 'other' } as GroupRule]) {
    const features = members.get(r.name);
    if (features && !out.some((g) => g.name === r.name))
      out.push({ name: r.name, features, ...(r.reason ? { reason: r.reason } : {}) });
  }
  return out;
}

/**
 * Groups of the line features (`LINE_FEATURE_SPECS` in features/line-features.ts) with the
 * reason code a positive contribution supports. Rule order matters: the first match wins.
 */
export const LINE_GROUP_RULES: readonly GroupRule[] = [
  { name: 'code_unknown', match: /^code_(is_hcpcs|known)$/, reason: 'CODE_UNKNOWN' },
  { name: 'code_dates', match: /^code_(terminated|not_yet_effective)$/, reason: 'CODE_TERMINATED' },
  {
    name: 'code_coverage',
    match: /^code_(not_payable|not_separately_priced|carrier_priced)$/,
    reason: 'CODING_MODEL_RISK',
  },
  { name: 'code_section', match: /^code_section=/, reason: 'CODING_MODEL_RISK' },
  { name: 'description_fit', match: /^desc_/, reason: 'DESCRIPTION_CODE_MISMATCH' },
  // Not PRINTED_CODE_DIFFERS: a positive contribution can come from printing no code at all (an
  // attribution against the baseline); the rule of that name gives it, with the printed codes.
  { name: 'printed_code', match: /^printed_code_/, reason: 'CODING_MODEL_RISK' },
  { name: 'vendor_fit', match: /^vendor_/, reason: 'CODING_MODEL_RISK' },
  // PRICE_BELOW_FEE_SCHEDULE instead when the price is below a known fee, CODING_MODEL_RISK when
  // no fee is known (model-reasons.ts `priceDirection`).
  { name: 'price_vs_fee_schedule', match: /^(fee_known|unit_price_)/, reason: 'PRICE_ABOVE_FEE_SCHEDULE' },
  { name: 'quantity_dose', match: /^(quantity_|dose_)/, reason: 'QUANTITY_IMPLAUSIBLE' },
  { name: 'line_amount', match: /^(line_amount_|is_credit_line)/, reason: 'LINE_AMOUNT_MISMATCH' },
];

/**
 * Groups of the pair features: one group per comparison of `COMPARISONS`
 * (features/comparisons.ts names them `<comparison>.<numeric>` and `<comparison>=<level>`).
 * Duplicate reasons are chosen by the duplicate detector, so no reason codes here.
 */
export function pairGroups(names: readonly string[]): FeatureGroup[] {
  const rules: GroupRule[] = [];
  for (const n of names) {
    const comparison = n.split(/[.=]/)[0]!;
    if (!rules.some((r) => r.name === comparison))
      rules.push({
        name: comparison,
        match: new RegExp(`^${comparison.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[.=]`),
      });
  }
  return groupFeatures(names, rules);
}

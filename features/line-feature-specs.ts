/**
 * The line feature vector's declaration: each feature's name, unit, description and the vector
 * edition that added it ({@link LINE_FEATURE_SPECS}), and the vector's names in order
 * ({@link LINE_VECTOR_NAMES}, the ONNX coding model's input order). The values are computed in
 * features/line-features.ts.
 */
import { HCPCS_SECTIONS } from './reference-index.js';

/** One line feature: name, unit, meaning, and the line revision that added it. */
export interface LineFeatureSpec {
  name: string;
  unit: string;
  description: string;
  /** The line vector revision (`FEATURE_CODE_REVISIONS.line`) that added it; absent: revision 3 or before. */
  since?: number;
}

const f = (name: string, unit: string, description: string, since?: number): LineFeatureSpec => ({
  name,
  unit,
  description,
  ...(since === undefined ? {} : { since }),
});

/** The line features of this version, in vector order. */
export const LINE_FEATURE_SPECS: readonly LineFeatureSpec[] = [
  f('code_is_hcpcs', 'bool', 'The line carries a HCPCS code (the other features are 0 otherwise).'),
  f('code_known', 'bool', 'The code is in HCPCS Level II 2025-01.'),
  f('code_terminated', 'bool', 'CMS termination date is before the service date.'),
  f('code_not_yet_effective', 'bool', 'CMS added date is after the service date.'),
  f('code_not_payable', 'bool', 'CMS coverage code I, M or S (not payable / non-covered by Medicare).'),
  f('code_not_separately_priced', 'bool', 'CMS pricing indicator 00 (not separately priced by Part B).'),
  f('code_carrier_priced', 'bool', 'CMS pricing indicator 13, 22, 46, 57 or 99 (no national price).'),
  f('desc_ref_cosine_short', 'cosine [-1,1]', 'Description embedding vs the CMS short description.'),
  f('desc_ref_cosine_long', 'cosine [-1,1]', 'Description embedding vs the CMS long description.'),
  f('desc_ref_cosine', 'cosine [-1,1]', 'Max of the two.'),
  f('desc_ref_token_overlap', 'ratio [0,1]', 'Share of the description stems found in the CMS descriptions.'),
  f(
    'desc_ref_short_coverage',
    'ratio [0,1]',
    'Share of the CMS short-description stems found in the description.',
  ),
  f(
    'desc_best_other_cosine',
    'cosine [-1,1]',
    'Cosine of the best-fitting other active code (combined descriptions).',
  ),
  f(
    'desc_ref_cosine_margin',
    'cosine difference [-2,2]',
    'desc_ref_cosine - desc_best_other_cosine (< 0: another code fits better).',
  ),
  f('desc_token_count', 'ln(1 + stems)', 'Content stems in the description.'),
  f('vendor_profile_present', 'bool', 'A vendor profile was given.'),
  f('vendor_approved_list_present', 'bool', 'The profile lists approved categories.'),
  f('vendor_category_approved', 'bool', "The code's category is among the approved ones (0 without a list)."),
  f('vendor_history_present', 'bool', 'The profile has past line counts.'),
  f(
    'vendor_category_share_log',
    'ln(share)',
    "ln((count in the code's category + 1) / (vendor's lines + categories billed + 1)); 0 without history.",
  ),
  f('fee_known', 'bool', 'A CMS 2025 national fee exists for the code (and modifier).'),
  f('unit_price_fee_log_ratio', 'ln(unit_price_cents / fee_cents)', 'Unit price vs the fee; 0 when unknown.'),
  f(
    'quantity_typical_known',
    'bool',
    "A typical quantity is known for the code (its own past lines, else its price band's, else its category's).",
  ),
  f(
    'quantity_typical_log_ratio',
    'ln(|quantity| / typical), floored at 0 for an estimate',
    "Quantity vs the typical quantity; 0 when unknown. Below an estimate (price band, category) it is 0: another code's quantities say how many is too many, not how few.",
  ),
  f('quantity_log1p', 'sign * ln(1 + |quantity|)', 'Billed units.'),
  f('unit_price_log1p', 'ln(1 + |unit_price_cents| / 100)', 'Unit price in dollars, log.'),
  f(
    'dose_comparable',
    'bool',
    'A dose other than one billing unit was parsed from the description, in a unit convertible to the billing unit.',
  ),
  f(
    'dose_units_log_ratio',
    'ln(|quantity| / (dose / billing unit))',
    'Billed units vs units implied by the dose; 0 unless comparable.',
  ),
  f('dose_units_abs_log_ratio', '|ln ratio|', 'Absolute value of dose_units_log_ratio (for linear models).'),
  f('dose_consistent', 'bool', 'Comparable and within 10% (e.g. 10 mg billed as 10 units of J1100 "1 mg").'),
  f(
    'dose_integer_multiple',
    'bool',
    'Comparable, more than 10% above, and within 5% of a whole multiple (several vials).',
  ),
  f(
    'line_amount_gap_rel',
    'ratio [-1,1]',
    '(amount - round(quantity * unit_price)) / max(|amount|, 1 cent), clipped.',
  ),
  f('is_credit_line', 'bool', 'Negative quantity or amount.'),
  ...[...HCPCS_SECTIONS, 'other'].map((s) =>
    f(`code_section=${s}`, 'one-hot', `HCPCS section ${s} (first letter of the code).`),
  ),
  f(
    'printed_code_present',
    'bool',
    'The description prints a HCPCS code the reference knows (printedCodeFinding in features/printed-code.ts).',
    4,
  ),
  f(
    'printed_code_differs',
    'bool',
    'The description prints known HCPCS codes and none of them is the billed code (the PRINTED_CODE_DIFFERS check).',
    4,
  ),
  f(
    'vendor_lines_log',
    'ln(1 + lines)',
    "The vendor's past HCPCS lines (every stored line); 0 without a per-code history.",
    5,
  ),
  f(
    'vendor_code_lines_log',
    'ln(1 + lines)',
    "The vendor's past lines billing this very code (its own normal billing: a vendor that bills a code on every invoice is not keying it in error); 0 without a per-code history.",
    5,
  ),
];

/** Names of the line vector, in order (the ONNX coding model's input order). */
export const LINE_VECTOR_NAMES: readonly string[] = LINE_FEATURE_SPECS.map((s) => s.name);

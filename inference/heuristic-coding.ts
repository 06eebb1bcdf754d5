/**
 * Heuristic coding-mismatch scorer. Each check yields a probability-like risk; a line's score
 * is their noisy-OR. Parameters are constants below, not fitted. It is served when no trained
 * coding model is (`MODELS_DIR=none`), and lends the trained model its evidence and suggestions.
 *
 * Checks: billed code unknown in HCPCS 2025-01; code terminated before the date of service;
 * description does not fit the code's CMS descriptions; unit price far above the CMS 2025
 * national fee for the code.
 */
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { cosine } from '../features/hashing.js';
import type { LineFeatures } from '../features/invoice-features.js';
import type { CodingMismatchScorer, LineScore, ScoringContext } from './scorers.js';
import { usableBaseline } from './stages/baselines.js';
import { reason, round3, type Reason } from './explain.js';
import { sigmoid } from '../models/spec.js';
import {
  feeNotComparable,
  referenceFee,
  type CodeReference,
  type NearestCode,
  type ReferenceIndex,
} from '../features/reference-index.js';

/** Parameters of the heuristic; changing any of them must bump `version`. */
export const HEURISTIC_CODING_PARAMS = {
  version: 'heuristic-coding@1',
  unknownCodeRisk: 0.95,
  terminatedCodeRisk: 0.9,
  /** Fit = 0.6 * cosine + 0.4 * stem overlap; risk = sigmoid(slope * (midpoint - fit)). */
  fitMidpoint: 0.22,
  fitSlope: 14,
  /** Unit price / fee ratio at which the price check starts to fire, and its risk there. */
  priceRatioFloor: 3,
  priceRiskAtFloor: 0.6,
  priceRiskMax: 0.9,
  /** Suggested codes are attached when the description risk is at least this. */
  suggestAt: 0.3,
} as const;

/** Number of suggested codes a line gets. */
const SUGGESTED_CODES = 3;

/**
 * A nearest reference code as a suggested code: its short CMS description, the cosine rounded
 * to 3 decimals.
 */
export function suggestedCode(n: NearestCode): LineScore['suggestedCodes'][number] {
  return {
    system: 'HCPCS',
    value: n.code.code,
    description: n.code.shortDescription,
    similarity: Math.round(n.cosine * 1000) / 1000,
  };
}

/**
 * Spread, in ln units, within which a unit price counts as the vendor's usual price: 3 MADs of
 * the vendor's ln(unit price), at least 0.1 (10%, two histogram bins).
 */
export const USUAL_PRICE_SPREAD_MADS = 3;

/**
 * True when the line's unit price is within the vendor's usual price for the code (its own
 * median x exp(3 MAD), the history holding enough observations): a contract price the vendor
 * always bills, not an overcharge against the CMS fee schedule.
 */
function usualPriceOfVendor(line: InvoiceLine, code: string, context: ScoringContext | undefined): boolean {
  const own = usableBaseline(context?.vendorBaselines?.get(code.toUpperCase())?.unitPrice);
  if (!own) return false;
  const spread = Math.max(0.1, USUAL_PRICE_SPREAD_MADS * own.madLog);
  return Math.log(line.unit_price_cents / own.median) <= spread;
}

/** How well a line's description fits its code's reference descriptions. */
interface DescriptionFit {
  /** Best cosine of the line's n-gram embedding with the code's combined or short description. */
  cos: number;
  /** Share of the line's distinct stems found in the code's descriptions, 0..1. */
  overlap: number;
  /** Risk that the code does not match the description, 0..1. */
  descRisk: number;
}

/**
 * Creates the heuristic scorer over a reference index. The price check yields to the vendor's
 * own usual price when the scoring context carries a deep enough baseline.
 */
export function createHeuristicCodingScorer(
  ref: ReferenceIndex,
  p = HEURISTIC_CODING_PARAMS,
): CodingMismatchScorer {
  const query = (f: LineFeatures, exclude?: string) => ({
    embedding: f.embedding,
    cacheKey: f.descriptionNormalised,
    ...(exclude ? { exclude } : {}),
  });
  const suggest = (f: LineFeatures, exclude?: string): LineScore['suggestedCodes'] =>
    (ref.nearest('ngram', [query(f, exclude)], SUGGESTED_CODES)[0] ?? []).map(suggestedCode);
  /** The description-fit check of a line against its code: cosine, stem overlap, risk. */
  const descriptionFit = (f: LineFeatures, rc: CodeReference): DescriptionFit => {
    const cos = Math.max(cosine(f.embedding, rc.ngram.combined), cosine(f.embedding, rc.ngram.short));
    const lineStems = new Set(f.tokens);
    let hit = 0;
    for (const s of lineStems) if (rc.ngram.stems.has(s)) hit++;
    const overlap = lineStems.size === 0 ? 0 : hit / lineStems.size;
    const fit = 0.6 * Math.max(0, cos) + 0.4 * overlap;
    return { cos, overlap, descRisk: sigmoid(p.fitSlope * (p.fitMidpoint - fit)) };
  };
  const scoreLine = (
    inv: Invoice,
    line: InvoiceLine,
    f: LineFeatures,
    context: ScoringContext | undefined,
    fit: DescriptionFit | undefined,
  ): LineScore => {
    const reasons: Reason[] = [];
    const base = { lineNumber: line.line_number, suggestedCodes: [] as LineScore['suggestedCodes'] };
    if (!line.code) {
      return { ...base, score: null, reasons: [reason('CODE_MISSING', 0, {})] };
    }
    if (line.code.system !== 'HCPCS') {
      return {
        ...base,
        score: null,
        reasons: [reason('CODE_SYSTEM_UNVERIFIED', 0, { system: line.code.system, code: line.code.value })],
      };
    }
    const code = line.code.value.toUpperCase();
    const rc = ref.get(code);
    const risks: number[] = [];
    if (!rc) {
      risks.push(p.unknownCodeRisk);
      reasons.push(reason('CODE_UNKNOWN', p.unknownCodeRisk, { code, reference: ref.version }));
      return { ...base, score: round3(p.unknownCodeRisk), reasons, suggestedCodes: suggest(f) };
    }
    const serviceDate = line.service_date ?? inv.service_period?.start ?? inv.invoice_date;
    if (rc.code.terminationDate !== null && serviceDate > rc.code.terminationDate) {
      risks.push(p.terminatedCodeRisk);
      reasons.push(
        reason('CODE_TERMINATED', p.terminatedCodeRisk, {
          code,
          termination_date: rc.code.terminationDate,
          service_date: serviceDate,
        }),
      );
    }
    // Description fit.
    const { cos, overlap, descRisk } = fit ?? descriptionFit(f, rc);
    let suggestedCodes: LineScore['suggestedCodes'] = [];
    if (descRisk >= p.suggestAt) {
      suggestedCodes = suggest(f, code);
    }
    if (descRisk >= 0.5) {
      reasons.push(
        reason('DESCRIPTION_CODE_MISMATCH', descRisk, {
          code,
          reference_description: rc.code.shortDescription,
          description_similarity: round3(cos),
          stem_overlap: round3(overlap),
          best_suggestion: suggestedCodes[0]?.value ?? null,
        }),
      );
    }
    risks.push(descRisk);
    // Price vs fee schedule.
    const fee = referenceFee(ref.fees(code), line.modifiers ?? []);
    if (
      fee &&
      fee.amountCents > 0 &&
      line.unit_price_cents > 0 &&
      feeNotComparable(inv.currency) === null &&
      !usualPriceOfVendor(line, code, context)
    ) {
      const ratio = line.unit_price_cents / fee.amountCents;
      if (ratio >= p.priceRatioFloor) {
        const risk = Math.min(
          p.priceRiskMax,
          p.priceRiskAtFloor + (0.15 * Math.log(ratio / p.priceRatioFloor)) / Math.LN2,
        );
        risks.push(risk);
        reasons.push(
          reason('PRICE_ABOVE_FEE_SCHEDULE', risk, {
            code,
            unit_price_cents: line.unit_price_cents,
            fee_schedule_cents: fee.amountCents,
            fee_schedule: fee.source,
            fee_modifier: fee.modifier || null,
            billing_unit: fee.billingUnit,
            ratio: Math.round(ratio * 100) / 100,
          }),
        );
      }
    }
    const score = 1 - risks.reduce((acc, r) => acc * (1 - r), 1);
    return { ...base, score: round3(score), reasons, suggestedCodes };
  };

  return {
    task: 'coding-mismatch',
    kind: 'heuristic',
    version: p.version,
    scoreLines(inv, lines, context) {
      const byNumber = new Map(inv.lines.map((l) => [l.line_number, l]));
      // Each line's description fit, computed here once and read again by scoreLine.
      const fits = new Map<LineFeatures, DescriptionFit>();
      // The lines that will want suggestions (unknown code, poor description fit), searched at
      // once; the index memoises the results the lines then read one by one.
      ref.nearest(
        'ngram',
        lines.flatMap((f) => {
          const code = byNumber.get(f.lineNumber)?.code;
          if (code?.system !== 'HCPCS') return [];
          const value = code.value.toUpperCase();
          const rc = ref.get(value);
          if (!rc) return [query(f)];
          const fit = descriptionFit(f, rc);
          fits.set(f, fit);
          return fit.descRisk >= p.suggestAt ? [query(f, value)] : [];
        }),
        SUGGESTED_CODES,
      );
      return lines.map((f) => {
        const line = byNumber.get(f.lineNumber);
        if (!line) throw new RangeError(`line ${f.lineNumber} is not on invoice ${inv.invoice_id}`);
        return scoreLine(inv, line, f, context, fits.get(f));
      });
    },
  };
}

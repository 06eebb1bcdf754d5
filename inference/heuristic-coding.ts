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
import type { ReferenceIndex } from './reference-index.js';
import { reason, round3, type Reason } from './explain.js';
import { sigmoid } from '../models/spec.js';
import { referenceFee } from '../features/line-reference.js';

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

/**
 * Creates the heuristic scorer over a reference index. The price check yields to the vendor's
 * own usual price when the scoring context carries a deep enough baseline.
 */
export function createHeuristicCodingScorer(
  ref: ReferenceIndex,
  p = HEURISTIC_CODING_PARAMS,
): CodingMismatchScorer {
  // Suggestions depend only on the description and the excluded code: memoise them (bounded),
  // since long invoices repeat descriptions.
  const suggestCache = new Map<string, LineScore['suggestedCodes']>();
  const suggestKey = (f: LineFeatures, exclude?: string): string =>
    `${exclude ?? ''}|${f.descriptionNormalised}`;
  /** Searches the suggestions of several lines not memoised yet in one batch and memoises them. */
  const prefetch = (wanted: readonly { f: LineFeatures; exclude?: string }[]): void => {
    const misses = wanted.filter(({ f, exclude }) => !suggestCache.has(suggestKey(f, exclude)));
    if (misses.length === 0) return;
    const found = ref.nearestMany(
      misses.map(({ f, exclude }) => ({ embedding: f.embedding, ...(exclude ? { exclude } : {}) })),
      3,
    );
    misses.forEach(({ f, exclude }, i) => {
      if (suggestCache.size >= 10_000) suggestCache.clear();
      suggestCache.set(
        suggestKey(f, exclude),
        found[i]!.map((n) => ({
          system: 'HCPCS' as const,
          value: n.code,
          description: n.description,
          similarity: n.similarity,
        })),
      );
    });
  };
  const suggest = (f: LineFeatures, exclude?: string): LineScore['suggestedCodes'] => {
    const key = suggestKey(f, exclude);
    if (!suggestCache.has(key)) prefetch([{ f, ...(exclude ? { exclude } : {}) }]);
    return suggestCache.get(key)!;
  };
  /** The description-fit check of a line against its code: cosine, stem overlap, risk. */
  const descriptionFit = (f: LineFeatures, rc: NonNullable<ReturnType<ReferenceIndex['get']>>) => {
    const cos = Math.max(cosine(f.embedding, rc.embedding), cosine(f.embedding, rc.shortEmbedding));
    const lineStems = new Set(f.tokens);
    let hit = 0;
    for (const s of lineStems) if (rc.stems.has(s)) hit++;
    const overlap = lineStems.size === 0 ? 0 : hit / lineStems.size;
    const fit = 0.6 * Math.max(0, cos) + 0.4 * overlap;
    return { cos, overlap, descRisk: sigmoid(p.fitSlope * (p.fitMidpoint - fit)) };
  };
  const scoreLine = (
    inv: Invoice,
    line: InvoiceLine,
    f: LineFeatures,
    context: ScoringContext | undefined,
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
    const { cos, overlap, descRisk } = descriptionFit(f, rc);
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
    if (fee && fee.amountCents > 0 && line.unit_price_cents > 0 && !usualPriceOfVendor(line, code, context)) {
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
      // The lines that will want suggestions (unknown code, poor description fit), searched at once.
      prefetch(
        lines.flatMap((f) => {
          const code = byNumber.get(f.lineNumber)?.code;
          if (code?.system !== 'HCPCS') return [];
          const value = code.value.toUpperCase();
          const rc = ref.get(value);
          if (!rc) return [{ f }];
          return descriptionFit(f, rc).descRisk >= p.suggestAt ? [{ f, exclude: value }] : [];
        }),
      );
      return lines.map((f) => {
        const line = byNumber.get(f.lineNumber);
        if (!line) throw new RangeError(`line ${f.lineNumber} is not on invoice ${inv.invoice_id}`);
        return scoreLine(inv, line, f, context);
      });
    },
  };
}

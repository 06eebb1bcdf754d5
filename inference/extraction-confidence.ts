/**
 * Extraction confidence: an invoice read by OCR/AI carries the extractor's confidence per
 * field and per line (`invoice.extraction`, see core/invoice.ts). A field of a checked group
 * whose confidence is below the policy's threshold for that group raises one
 * `LOW_EXTRACTION_CONFIDENCE` reason naming every such field, which routes the invoice to AP
 * review (inference/policy.ts). The groups:
 *
 * | group            | fields                                                                        |
 * | ---------------- | ----------------------------------------------------------------------------- |
 * | `amounts`        | `/total_cents`, `/lines/<i>/quantity`, `/lines/<i>/unit_price_cents`, `/lines/<i>/amount_cents` |
 * | `invoice_number` | `/invoice_number`                                                             |
 * | `vendor`         | `/vendor/id`, `/vendor/name`, `/vendor/tax_id`, `/vendor/npi`                  |
 * | `codes`          | `/lines/<i>/code`, `/lines/<i>/modifiers`                                      |
 *
 * A line's `line` confidence applies to each of its fields (the lower of the two counts). Fields
 * the extractor did not report count as certain. The evidence holds field paths, confidences
 * and thresholds only (no invoice text).
 */
import type { Reason } from '../core/decision.js';
import type { FieldConfidence, Invoice, LineConfidence } from '../core/invoice.js';
import { reason } from './explain.js';
import { DEFAULT_EXTRACTION_THRESHOLDS, type ExtractionThresholds } from './policy.js';

/** A field group whose confidence the policy bounds. */
export type ExtractionGroup = keyof ExtractionThresholds;

/** One field read with too little confidence. */
export interface LowConfidenceField {
  /** JSON pointer of the canonical field, e.g. `/lines/1/amount_cents`. */
  field: string;
  group: ExtractionGroup;
  /** Confidence the extractor reported, in [0, 1]. */
  confidence: number;
  /** The policy's threshold for the group (confidence below it is low). */
  threshold: number;
}

/** Invoice-level fields by group (key of {@link FieldConfidence} -> canonical pointer). */
const INVOICE_FIELDS: readonly (readonly [keyof FieldConfidence, string, ExtractionGroup])[] = [
  ['total_cents', '/total_cents', 'amounts'],
  ['invoice_number', '/invoice_number', 'invoice_number'],
  ['vendor_id', '/vendor/id', 'vendor'],
  ['vendor_name', '/vendor/name', 'vendor'],
  ['vendor_tax_id', '/vendor/tax_id', 'vendor'],
  ['vendor_npi', '/vendor/npi', 'vendor'],
];

/** Line fields by group (key of {@link LineConfidence} -> field name under `/lines/<i>`). */
const LINE_FIELDS: readonly (readonly [keyof LineConfidence & string, ExtractionGroup])[] = [
  ['quantity', 'amounts'],
  ['unit_price_cents', 'amounts'],
  ['amount_cents', 'amounts'],
  ['code', 'codes'],
  ['modifiers', 'codes'],
];

/**
 * The checked fields whose extraction confidence is below the threshold of their group, in
 * document order (invoice fields, then lines).
 * @param thresholds the policy's `extraction.min_confidence` (default 0.9 / 0.9 / 0.9 / 0.8).
 */
export function lowConfidenceFields(
  invoice: Invoice,
  thresholds: ExtractionThresholds = DEFAULT_EXTRACTION_THRESHOLDS,
): LowConfidenceField[] {
  const ex = invoice.extraction;
  if (!ex) return [];
  const out: LowConfidenceField[] = [];
  const check = (field: string, group: ExtractionGroup, confidence: number | undefined): void => {
    if (confidence !== undefined && confidence < thresholds[group])
      out.push({ field, group, confidence, threshold: thresholds[group] });
  };
  for (const [key, pointer, group] of INVOICE_FIELDS) check(pointer, group, ex.fields?.[key]);
  const index = new Map(invoice.lines.map((l, i) => [l.line_number, i]));
  for (const lc of ex.lines ?? []) {
    const i = index.get(lc.line_number);
    if (i === undefined) continue;
    for (const [key, group] of LINE_FIELDS) {
      const own = lc[key] as number | undefined;
      const c = own === undefined ? lc.line : lc.line === undefined ? own : Math.min(own, lc.line);
      check(`/lines/${i}/${key}`, group, c);
    }
  }
  return out;
}

/** True when the invoice number's confidence is below the policy's `invoice_number` threshold. */
export function invoiceNumberUncertain(
  invoice: Invoice,
  thresholds: ExtractionThresholds = DEFAULT_EXTRACTION_THRESHOLDS,
): boolean {
  const c = invoice.extraction?.fields?.invoice_number;
  return c !== undefined && c < thresholds.invoice_number;
}

/**
 * The `LOW_EXTRACTION_CONFIDENCE` reason of an invoice, or none. Weight: 1 - the lowest
 * confidence among the low fields (a field read at 0.3 weighs 0.7). Evidence:
 * `{ extractor: 'name@version', fields: LowConfidenceField[] }`.
 */
export function extractionConfidenceReasons(
  invoice: Invoice,
  thresholds: ExtractionThresholds = DEFAULT_EXTRACTION_THRESHOLDS,
): Reason[] {
  const low = lowConfidenceFields(invoice, thresholds);
  if (low.length === 0) return [];
  const lowest = Math.min(...low.map((f) => f.confidence));
  const ex = invoice.extraction!;
  return [
    reason('LOW_EXTRACTION_CONFIDENCE', Math.max(0.01, 1 - lowest), {
      extractor: `${ex.extractor.name}@${ex.extractor.version}`,
      fields: low,
    }),
  ];
}

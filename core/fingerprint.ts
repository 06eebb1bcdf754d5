/**
 * The idempotency fingerprint of an invoice: what decides whether an invoice re-sent under the
 * same `invoice_id` is the same invoice (a replay) or other content (a conflict).
 */
import { canonicalSha256 } from './canonical.js';
import type { Invoice } from './invoice.js';

const byLineNumber = (a: { line_number: number }, b: { line_number: number }): number =>
  a.line_number - b.line_number;

const ordered = (lines: readonly { line_number: number }[] | undefined): boolean =>
  lines === undefined || lines.every((l, i) => i === 0 || lines[i - 1]!.line_number < l.line_number);

/** Whether the invoice's lines and its extraction's lines come in `line_number` order. */
export const inLineOrder = (invoice: Pick<Invoice, 'lines' | 'extraction'>): boolean =>
  ordered(invoice.lines) && ordered(invoice.extraction?.lines);

/**
 * The invoice (or its content) with its lines and its extraction's line confidences in
 * `line_number` order: itself when they already are.
 */
export function inLineNumberOrder<T extends Pick<Invoice, 'lines' | 'extraction'>>(invoice: T): T {
  if (inLineOrder(invoice)) return invoice;
  const x = invoice.extraction;
  return {
    ...invoice,
    lines: [...invoice.lines].sort(byLineNumber),
    ...(x?.lines ? { extraction: { ...x, lines: [...x.lines].sort(byLineNumber) } } : {}),
  };
}

/** The invoice without its `source` (the envelope it came in), lines as given. */
function content(invoice: Invoice): Partial<Invoice> {
  if (invoice.source === undefined) return invoice;
  const c: Partial<Invoice> = { ...invoice };
  delete c.source;
  return c;
}

/**
 * sha256 (hex) of the invoice's canonical JSON (keys sorted) without its `source` (format,
 * document hash, place in the document), its lines and its extraction's line confidences in
 * `line_number` order: the same invoice re-sent in another envelope (a re-cut X12 interchange,
 * UBL then FHIR) or with its lines in another order replays its decision instead of being a
 * conflict. Lines are named by their `line_number` (unique per invoice), never by their place in
 * the array. For lines sent in `line_number` order this is the sha256 of the invoice as sent.
 */
export function payloadSha256(invoice: Invoice): string {
  return canonicalSha256(inLineNumberOrder(content(invoice) as Invoice));
}

/**
 * Whether `stored`, the fingerprint stored with an invoice id, names this invoice, whose
 * {@link payloadSha256} is `sha`. Fingerprints stored before lines were put in `line_number`
 * order hashed the lines as sent: such a row still matches the invoice re-sent as it was stored
 * (that hash is computed only when `sha` differs).
 */
export function fingerprintMatches(stored: string, invoice: Invoice, sha: string): boolean {
  if (stored === sha) return true;
  return !inLineOrder(invoice) && stored === canonicalSha256(content(invoice));
}

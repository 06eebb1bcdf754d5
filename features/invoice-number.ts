/**
 * Invoice-number normalisation. Two forms are kept: `normalised` (separators, prefixes and
 * leading zeros removed) and `canonical` (also OCR-confusable characters folded), so that
 * "INV-0O1B" and "1018" compare equal on the canonical form and differ visibly on the raw one.
 */

/** Characters OCR confuses, folded to one representative (letters -> digits). */
const OCR_FOLD: Readonly<Record<string, string>> = {
  O: '0',
  Q: '0',
  D: '0',
  I: '1',
  L: '1',
  '|': '1',
  B: '8',
  S: '5',
  Z: '2',
  G: '6',
};

const PREFIX_RE = /^(?:INVOICE|INV|NO|NUM|NUMBER|REF|BILL|#)+/;

/** The forms of an invoice number used for blocking and comparison. */
export interface InvoiceNumberForms {
  raw: string;
  /** Upper-case, prefixes (INV, No., #) and separators removed, leading zeros stripped. */
  normalised: string;
  /** `normalised` with OCR confusables folded (O->0, I/L/|->1, B->8, S->5, Z->2, G->6). */
  canonical: string;
}

/**
 * @example normaliseInvoiceNumber('INV-0O1B') -> { normalised: 'O1B', canonical: '18' } after zero stripping
 */
export function normaliseInvoiceNumber(raw: string): InvoiceNumberForms {
  const upper = raw.normalize('NFKC').toUpperCase().trim();
  const compact = upper.replace(/[\s\-_/.:,]+/g, '');
  const noPrefix = compact.replace(PREFIX_RE, '');
  const body = noPrefix.length > 0 ? noPrefix : compact;
  const normalised = stripZeros(body.replace(/[^A-Z0-9|]/g, ''));
  const folded = [...body]
    .map((c) => OCR_FOLD[c] ?? c)
    .join('')
    .replace(/[^A-Z0-9]/g, '');
  return { raw, normalised, canonical: stripZeros(folded) };
}

function stripZeros(s: string): string {
  const t = s.replace(/^0+/, '');
  return t.length > 0 ? t : s.length > 0 ? '0' : s;
}

/**
 * Invoice-number normalisation. Two forms are kept beside the raw text: `normalised`
 * (prefixes such as INV / # / No., separators and leading zeros removed) and `canonical` (also
 * OCR-confusable characters folded), so that "INV-0O1B" and "1018" can be compared on the
 * canonical form, differ visibly on the raw one, and the exact edit between them can be shown.
 */
import { editScript, type EditOp } from './edits.js';
import { levenshtein } from './strings.js';

/**
 * Characters OCR confuses, folded to one representative (letters -> digits): O/Q/D -> 0,
 * I/L/| -> 1 (lower-case l is upper-cased first), B -> 8, S -> 5, Z -> 2, G -> 6.
 */
export const OCR_FOLD: Readonly<Record<string, string>> = {
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

/**
 * Printed prefixes dropped from the start (repeatedly): "INV-", "Invoice No.", "No:", "#",
 * "Ref". A word prefix is only dropped when no letter follows it ("NOV-12" keeps its "NO").
 */
const PREFIX_RE =
  /^(?:(?:INVOICE\s*(?:NUMBER|NO|NBR|#)|INV\s*(?:NO|#)|INVOICE|INV|NUMBER|NUM|NBR|NO|NR|REF|BILL)(?![A-Z])[\s.:#\-_/]*|#\s*)+/;

/** The forms of an invoice number used for blocking and comparison. */
export interface InvoiceNumberForms {
  /** The text exactly as given. */
  raw: string;
  /** Upper-case, prefixes (INV, No., #) and separators removed, leading zeros stripped. */
  normalised: string;
  /** `normalised` with OCR confusables folded ({@link OCR_FOLD}), leading zeros stripped again. */
  canonical: string;
}

/**
 * Normalises an invoice number.
 * @example normaliseInvoiceNumber('INV-0001008') -> { normalised: '1008', canonical: '1008' }
 * @example normaliseInvoiceNumber('INV-0O1B') -> { normalised: 'O1B', canonical: '18' } (0O1B -> 0018 -> 18)
 */
export function normaliseInvoiceNumber(raw: string): InvoiceNumberForms {
  const upper = raw.normalize('NFKC').toUpperCase().trim();
  const noPrefix = upper.replace(PREFIX_RE, '');
  const compact = (noPrefix.length > 0 ? noPrefix : upper).replace(/[\s\-_/.:,#]+/g, '');
  const body = compact.length > 0 ? compact : upper.replace(/[\s\-_/.:,#]+/g, '');
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

/**
 * A number form with the zero padding of every numeric run dropped (a run of zeros alone keeps
 * one zero), so that numbers re-keyed with more or fewer padding zeros inside them compare equal.
 * Applied to a {@link InvoiceNumberForms} form (`normalised` or `canonical`), whose separators are
 * already removed; the stored forms themselves are unchanged.
 * @example unpadNumericRuns('61ME00233812') -> '61ME233812'
 * @example unpadNumericRuns('GLME0233812') -> 'GLME233812'
 * @example unpadNumericRuns('A000B7') -> 'A0B7'
 * @example unpadNumericRuns('20240099') -> '20240099' (one run: "2024-0099" and "2024-0100" stay apart)
 */
export function unpadNumericRuns(form: string): string {
  return form.replace(/\d+/g, (run) => run.replace(/^0+(?=\d)/, ''));
}

/** How two invoice numbers differ, as evidence for reviewers and as pair features. */
export interface InvoiceNumberComparison {
  /** Levenshtein distance of the raw texts (upper-cased, trimmed), in edits. */
  rawEdits: number;
  /** Levenshtein distance of the normalised forms, in edits. */
  normalisedEdits: number;
  /** Levenshtein distance of the canonical (OCR-folded) forms, in edits. */
  canonicalEdits: number;
  /** Substitutions in `script` between OCR-confusable characters (O<->0, B<->8...). */
  confusableSubstitutions: number;
  /**
   * True when one normalised number is the other plus at most 3 characters at the start or end
   * ("1008" vs "1008A", "R1008"): a typical re-submission suffix.
   */
  affixVariant: boolean;
  /** Exact edit script from the normalised `a` to the normalised `b` (see `editScript`). */
  script: EditOp[];
}

/** The edit counts and affix test of {@link InvoiceNumberComparison}, without the edit script. */
export type InvoiceNumberDistances = Pick<
  InvoiceNumberComparison,
  'rawEdits' | 'normalisedEdits' | 'canonicalEdits' | 'affixVariant'
>;

/**
 * How far apart two invoice numbers' forms are (the pair features read these alone; the edit
 * script of {@link compareInvoiceNumbers} is for evidence).
 */
export function invoiceNumberDistances(
  fa: InvoiceNumberForms,
  fb: InvoiceNumberForms,
): InvoiceNumberDistances {
  const na = fa.normalised;
  const nb = fb.normalised;
  const [short, long] = na.length <= nb.length ? [na, nb] : [nb, na];
  return {
    rawEdits: levenshtein(
      fa.raw.normalize('NFKC').toUpperCase().trim(),
      fb.raw.normalize('NFKC').toUpperCase().trim(),
    ),
    normalisedEdits: levenshtein(na, nb),
    canonicalEdits: levenshtein(fa.canonical, fb.canonical),
    affixVariant:
      short.length >= 3 &&
      long.length > short.length &&
      long.length - short.length <= 3 &&
      (long.startsWith(short) || long.endsWith(short)),
  };
}

/**
 * Compares two invoice numbers on their raw, normalised and canonical forms.
 * @example compareInvoiceNumbers('INV-0O1B', '1018') -> canonicalEdits 2 ('18' vs '1018'), script on 'O1B' -> '1018'
 */
export function compareInvoiceNumbers(
  a: InvoiceNumberForms | string,
  b: InvoiceNumberForms | string,
): InvoiceNumberComparison {
  const fa = typeof a === 'string' ? normaliseInvoiceNumber(a) : a;
  const fb = typeof b === 'string' ? normaliseInvoiceNumber(b) : b;
  const na = fa.normalised;
  const nb = fb.normalised;
  const script = na.length <= 256 && nb.length <= 256 ? editScript(na, nb) : [];
  let confusable = 0;
  for (const op of script) {
    if (op.op === 'substitute' && (OCR_FOLD[op.from!] ?? op.from) === (OCR_FOLD[op.to!] ?? op.to))
      confusable++;
  }
  return { ...invoiceNumberDistances(fa, fb), confusableSubstitutions: confusable, script };
}

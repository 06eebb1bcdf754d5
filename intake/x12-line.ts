/**
 * Segments of the X12 810 adapter (`intake/x12.ts`): positions, element access and errors
 * naming `/segments/<n>/<SEG><nn>`, and the IT1 (baseline item data) line mapping.
 */
import { X12parser } from 'x12-parser';
import { ownValue } from '../core/own.js';
import type { SourceFormat } from '../core/invoice.js';
import type { NotUtf8Error } from '../core/utf8.js';
import { documentError, type DocumentNumbers } from './document.js';
import { CPT_UNDER_HC, IT1_CODE_IS_ITEM, IT103_NO_UNIT, IT1_PRODUCT_QUALIFIER } from './mapping/x12.js';
import type { X12Separators } from './x12.js';

export const FORMAT: SourceFormat = 'x12-810';

/** A segment as x12-parser emits it: `name`, elements `"1"`..`"n"`, components `"n-1"`... */
export type RawSegment = Record<string, string> & { name: string };

/** A segment with its position in the interchange. */
export interface Segment {
  tag: string;
  /** Elements by position (index 0 = element 01), each split into components. */
  elements: string[][];
  /** 1-based position in the interchange (the ISA is 1). */
  position: number;
  /**
   * Elements as written (index 0 = element 01; first component, untrimmed), when known:
   * x12-parser trims every element, and a number written with spaces must be seen to be refused.
   */
  texts?: string[];
}

/**
 * The x12-parser stream that also keeps each segment's text as written (`generateSegments`
 * receives it before it is trimmed), in the order the segments are emitted.
 */
export class WrittenX12parser extends X12parser {
  #written: string[] = [];
  #next = 0;

  override generateSegments(segments: string[]): void {
    if (this.#next === this.#written.length) {
      this.#written = [];
      this.#next = 0;
    }
    this.#written.push(...segments);
    super.generateSegments(segments);
  }

  /** The text as written of the next segment emitted (call once per emitted segment, in order). */
  takeWritten(): string | undefined {
    return this.#written[this.#next++];
  }
}

/** Elements of a raw x12-parser segment, each as its components, and as `written` (not for the ISA). */
export function toSegment(
  raw: RawSegment,
  position: number,
  written: string | undefined,
  seps: X12Separators,
): Segment {
  const elements: string[][] = [];
  for (let i = 1; raw[String(i)] !== undefined; i++) {
    const comps = [raw[String(i)]!];
    for (let j = 1; raw[`${i}-${j}`] !== undefined; j++) comps.push(raw[`${i}-${j}`]!);
    elements.push(comps);
  }
  const texts =
    written === undefined || raw.name === 'ISA'
      ? undefined
      : written
          .split(seps.element)
          .slice(1)
          .map((e) => e.split(seps.component)[0]!);
  return { tag: raw.name, elements, position, ...(texts ? { texts } : {}) };
}

export const at = (s: Segment, i: number): string => s.elements[i - 1]?.[0] ?? '';
/**
 * An R or N element's text as written (spaces kept: X12 numbers hold none, so `" 18.75"` is
 * refused where it is read rather than read as 18.75).
 */
export const numeral = (s: Segment, i: number): string => s.texts?.[i - 1] ?? at(s, i);
export const where = (s: Segment, i?: number): string =>
  `/segments/${s.position}/${s.tag}${i === undefined ? '' : String(i).padStart(2, '0')}`;
export const fail = (s: Segment, i: number | undefined, message: string): never => {
  throw documentError(FORMAT, where(s, i), message);
};

/**
 * Refuses an interchange at its first byte that is not UTF-8, naming the segment and element it
 * falls in: `/segments/12/IT107`. Segments are counted from the ISA, which starts at byte
 * `start`; `seps` are the interchange's separators, null when the byte is inside the ISA (then
 * `/segments/1/ISA`).
 * @throws TriageError 400 always.
 */
export function failNotUtf8(
  doc: Buffer,
  start: number,
  { offset: bad, message }: NotUtf8Error,
  seps: X12Separators | null,
): never {
  if (seps === null) return fail({ tag: 'ISA', elements: [], position: 1 }, undefined, message);
  const head = doc.subarray(start, bad);
  const terminator = Buffer.from(seps.segment);
  let position = 1;
  let from = 0;
  for (let i = head.indexOf(terminator); i >= 0; i = head.indexOf(terminator, i + 1)) {
    position++;
    from = i + terminator.length;
  }
  // Everything before the bad byte is UTF-8: the segment so far, split into its elements.
  const parts = head.subarray(from).toString('utf8').trimStart().split(seps.element);
  return fail(
    { tag: parts[0]!, elements: [], position },
    parts.length > 1 ? parts.length - 1 : undefined,
    message,
  );
}

/** Where the fields of an IT1 line were read (pointers relative to the line; amount: IT104). */
export function it1Sources(line: Record<string, unknown>, s: Segment): [string, string][] {
  const out: [string, string][] = [
    ['', where(s)],
    ['/line_number', where(s, 1)],
    ['/quantity', where(s, 2)],
    ['/uom', where(s, 3)],
    ['/unit_price_cents', where(s, 4)],
    ['/amount_cents', where(s, 4)],
  ];
  const code = line.code as { value: string } | undefined;
  for (let q = 7; q <= 25; q += 2) {
    const v = s.elements[q - 1]?.[0] ?? '';
    if (code && v.startsWith(code.value)) {
      out.push(['/code', where(s, q)], ['/modifiers', where(s, q)]);
      break;
    }
  }
  for (let q = 7; q <= 25; q += 2) {
    if (at(s, q - 1) === 'PL') out.push(['/po_line_number', where(s, q)]);
    else if (line.item_identifiers && at(s, q) !== '') out.push(['/item_identifiers', where(s, q)]);
  }
  return out;
}

/**
 * One IT1 (baseline item data) as a canonical line; PID, PO4 and DTM*472 complete it. IT103
 * (unit or basis for measurement, X12 355) is the line's `uom` (not `UN`, see
 * {@link IT103_NO_UNIT}); the product
 * IDs fill the code, `item_identifiers` (at most 8, in order) and `po_line_number` (qualifier PL).
 */
export function mapIt1(s: Segment, numbers: DocumentNumbers, seps: X12Separators): Record<string, unknown> {
  const ln = at(s, 1);
  // 0 is not a line number: it would also be taken for a SAC line and renumbered after the last IT1.
  if (!/^\d{1,6}$/.test(ln) || Number(ln) < 1)
    fail(s, 1, 'must be the line number (1 to 6 digits, at least 1)');
  const quantity = numbers.quantity(numeral(s, 2), where(s, 2));
  const unitPrice = numbers.cents(numeral(s, 4), where(s, 4));
  // IT1 carries no extended amount: it is quantity x unit price, which must be whole cents
  // (money is never rounded; 1.5 x 18.75 = 28.125 is refused, not billed as 28.13).
  const amount = quantity * unitPrice;
  const whole = Math.round(amount);
  if (Math.abs(amount - whole) > 1e-6 * Math.max(1, Math.abs(amount)))
    fail(
      s,
      undefined,
      `quantity ${at(s, 2)} x unit price ${at(s, 4)} is ${+(amount / 100).toFixed(6)}, not whole cents; IT1 carries no line amount, so it is not rounded (bill a quantity whose amount is whole cents, or a SAC for the difference)`,
    );
  const line: Record<string, unknown> = {
    line_number: Number(ln),
    quantity,
    unit_price_cents: unitPrice,
    amount_cents: whole,
  };
  const uom = at(s, 3).toUpperCase();
  if (/^[A-Z]{1,8}$/.test(uom) && !IT103_NO_UNIT.has(uom)) line.uom = uom;
  const items: string[] = [];
  // Product/service ID pairs: IT106/IT107, IT108/IT109, ... up to IT124/IT125.
  for (let q = 6; q <= 24; q += 2) {
    const qualifier = at(s, q);
    if (qualifier === '') {
      // An ID without its qualifier: what the ID is (a billing code, an item number) is unknown,
      // and passing it over would drop what the line bills unseen.
      if (at(s, q + 1) !== '' || (s.elements[q]?.length ?? 0) > 1)
        fail(
          s,
          q,
          `is empty; IT1${String(q + 1).padStart(2, '0')} ${at(s, q + 1)} requires its product/service ID qualifier (one of ${Object.keys(IT1_PRODUCT_QUALIFIER).join(', ')})`,
        );
      continue;
    }
    const kind = ownValue(IT1_PRODUCT_QUALIFIER, qualifier);
    if (!kind) fail(s, q, `has the unknown product/service ID qualifier ${qualifier}`);
    const comps = s.elements[q]!;
    const value = (seps.repetition ? comps[0]!.split(seps.repetition)[0]! : comps[0]!).trim();
    // X12 pairs the qualifier with its ID: a qualifier without one (its modifiers with it, `HC*>RR`)
    // would drop what the line bills unseen.
    if (value === '')
      fail(
        s,
        q + 1,
        `is empty; IT1${String(q).padStart(2, '0')} ${qualifier} requires its product/service ID`,
      );
    if (kind === 'ignore') continue;
    if (kind === 'po_line') {
      if (!/^\d{1,6}$/.test(value) || Number(value) < 1)
        fail(s, q + 1, 'must be the PO line number (1 to 6 digits)');
      line.po_line_number ??= Number(value);
      continue;
    }
    if (kind === 'item' || IT1_CODE_IS_ITEM.has(qualifier)) {
      if (value.length <= 64 && items.length < 8 && !items.includes(value)) items.push(value);
      if (kind === 'item') continue;
    }
    if (line.code) continue;
    line.code = { system: kind === 'HCPCS' && CPT_UNDER_HC.test(value) ? 'CPT' : kind, value };
    const modifiers = comps.slice(1).filter((m) => m !== '');
    if (modifiers.length > 0) line.modifiers = modifiers;
  }
  if (items.length > 0) line.item_identifiers = items;
  return line;
}

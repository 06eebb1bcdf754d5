/**
 * ASC X12 810 adapter: an interchange (ISA ... IEA, one or more GS groups of ST/SE invoice
 * transaction sets) to canonical invoices, one per transaction set.
 *
 * Tokenising is `x12-parser` (a streaming Transform: segments come out one at a time, so memory
 * holds one transaction set, not the interchange). Before the stream starts, the fixed-length
 * ISA is checked here (106 characters, element widths of {@link ISA_WIDTHS}); its separators
 * are: element = character 4, repetition = ISA11 (from version 00402; `U` before), component =
 * ISA16, segment terminator = character 106. The envelope is checked as it streams: GS01 `IN`,
 * ST01 `810`, SE01 = segments from ST to SE inclusive, SE02 = ST02, GE01 = transaction sets in
 * the group, GE02 = GS06, IEA01 = groups, IEA02 = ISA13.
 *
 * Errors are 400 `TRIAGE_INPUT_INVALID` whose path names the segment position and element,
 * `/segments/<n>/<SEG><nn>` (n counts from 1 at the ISA), e.g. `/segments/7/IT104`, also when a
 * converted invoice fails validation (each field's element is recorded, `ConvertedInvoice.sources`).
 * Mapping tables: `intake/mapping/x12.ts`. Invoice id `<ISA06>-<ISA13>-<ST02>` (sender, interchange
 * and transaction set control numbers: unique per sender, the same when an interchange is re-sent).
 */
import { ownValue } from '../core/own.js';
import { Readable } from 'node:stream';
import { isTriageError, type TriageError } from '../core/errors.js';
import { currencyProblem } from '../core/currency.js';
import {
  CREDIT_MEMO_ALLOWANCE,
  creditSigns,
  defined,
  documentNumbers,
  invoiceError,
  isoDate,
  refuseNegativeZero,
  SourceMap,
  type ConvertedInvoice,
  X12_NUMERAL,
} from './document.js';
import {
  BIG07_DOCUMENT_TYPE,
  DTM01_FIELD,
  GS01_INVOICE,
  HEADER_ELEMENTS,
  ISA_LENGTH,
  ISA_WIDTHS,
  N101_ROLE,
  N103_VENDOR_FIELD,
  PID01_TYPE,
  PID03_LINE_CODE,
  REF01_FIELD,
  SAC01_SIGN,
  SAC02_DESCRIPTION,
  ST01_INVOICE,
} from './mapping/x12.js';
import { notUtf8 } from '../core/utf8.js';
import {
  at,
  fail,
  failNotUtf8,
  FORMAT,
  it1Sources,
  mapIt1,
  numeral,
  toSegment,
  where,
  WrittenX12parser,
  type RawSegment,
  type Segment,
} from './x12-line.js';

/** Separators of an interchange, from its ISA. */
export interface X12Separators {
  element: string;
  component: string;
  /** Null before version 00402 (ISA11 is then the standards identifier `U`). */
  repetition: string | null;
  segment: string;
}

/**
 * Checks the fixed-length ISA and reads the separators.
 * @throws TriageError 400 at `/segments/1/ISA` (truncated, wrong widths) or `/segments/1/ISAnn`.
 */
export function readIsa(text: string): X12Separators {
  const isa = { tag: 'ISA', elements: [], position: 1 };
  if (!text.startsWith('ISA'))
    fail(isa, undefined, 'is missing: an X12 interchange starts with the ISA segment');
  if (text.length < ISA_LENGTH)
    fail(isa, undefined, `is truncated: ${text.length} of ${ISA_LENGTH} characters`);
  const element = text[3]!;
  const segment = text[ISA_LENGTH - 1]!;
  if (/[A-Za-z0-9 ]/.test(element)) fail(isa, undefined, 'has a letter, digit or space as element separator');
  const parts = text.slice(4, ISA_LENGTH - 1).split(element);
  if (parts.length !== ISA_WIDTHS.length)
    fail(isa, undefined, `has ${parts.length} elements within its ${ISA_LENGTH} characters (16 expected)`);
  parts.forEach((p, i) => {
    // The ISA is fixed-width ASCII: another character is read as one position but is not one byte.
    const other = /[^\x20-\x7E]/u.exec(p)?.[0];
    if (other !== undefined)
      fail(
        isa,
        i + 1,
        `holds U+${other.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}; ISA elements are printable ASCII`,
      );
    if (p.length !== ISA_WIDTHS[i]) fail(isa, i + 1, `must be ${ISA_WIDTHS[i]} characters wide`);
  });
  const component = parts[15]!;
  if (component === element || component === segment || /[A-Za-z0-9 ]/.test(segment))
    fail(isa, 16, 'separators (element, component, segment terminator) must differ and be punctuation');
  const version = parts[11]!;
  const repetition = version >= '00402' && !/[A-Za-z0-9 ]/.test(parts[10]!) ? parts[10]! : null;
  return { element, component, repetition, segment };
}

/** Document chunks fed to the parser (the whole interchange is never split into strings at once). */
function* chunks(doc: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let i = 0; i < doc.length; i += size) yield doc.subarray(i, i + size);
}

/**
 * Converts an X12 810 interchange to canonical invoice candidates, one per transaction set, in
 * document order.
 * @param maxInvoices most transaction sets accepted (400 beyond).
 * @throws TriageError 400 naming the segment/element (see the module doc).
 */
export async function convertX12(
  doc: Buffer,
  maxInvoices = Number.MAX_SAFE_INTEGER,
): Promise<ConvertedInvoice[]> {
  // A byte-order mark or blank lines before the ISA are tolerated.
  const lead = /^[\uFEFF\s]*/.exec(doc.subarray(0, 256).toString('utf8'))![0];
  const start = Buffer.byteLength(lead);
  // Text is never decoded with replacement: a byte that is not UTF-8 refuses the interchange.
  const notText = notUtf8(doc);
  if (notText !== undefined && notText.offset < start + ISA_LENGTH) failNotUtf8(doc, start, notText, null);
  const seps = readIsa(doc.subarray(start, start + 256).toString('utf8'));
  if (notText !== undefined) failNotUtf8(doc, start, notText, seps);
  const parser = new WrittenX12parser('utf8');
  const stream = Readable.from(chunks(doc.subarray(start))).pipe(parser);
  const out: ConvertedInvoice[] = [];
  let position = 0;
  let isa: Segment | null = null;
  let gs: Segment | null = null;
  let groups = 0;
  let setsInGroup = 0;
  let tx: Segment[] | null = null;
  let sets = 0;
  // The first invoice that failed to map; the rest are only counted (its error says `k of n`).
  let bad: { error: TriageError; index: number; location: string } | null = null;
  let ended = false;
  const onSegment = (raw: RawSegment): void => {
    const written = parser.takeWritten();
    // Line breaks after the last terminator come out as an empty segment.
    if (raw.name === '' && raw['1'] === undefined) return;
    const s = toSegment(raw, ++position, written, seps);
    if (ended) fail(s, undefined, 'follows the IEA (one interchange per document)');
    if (tx !== null) {
      tx.push(s);
      if (s.tag === 'ST') fail(s, undefined, 'opens a transaction set before the SE of the previous one');
      if (s.tag !== 'SE') return;
      const st = tx[0]!;
      if (at(s, 1) !== String(tx.length))
        fail(s, 1, `says ${at(s, 1)} segments; the transaction set has ${tx.length} (ST to SE)`);
      if (at(s, 2) !== at(st, 2)) fail(s, 2, `(${at(s, 2)}) does not match ST02 (${at(st, 2)})`);
      if (sets >= maxInvoices)
        fail(st, undefined, `exceeds the ${maxInvoices} invoices accepted in one request`);
      const done = tx;
      tx = null;
      if (bad === null) {
        try {
          out.push(mapTransaction(done, isa!, seps));
        } catch (e) {
          if (!isTriageError(e)) throw e;
          bad = { error: e, index: sets, location: setLocation(st) };
        }
      }
      sets++;
      return;
    }
    switch (s.tag) {
      case 'ISA':
        if (position !== 1) fail(s, undefined, 'appears twice');
        isa = s;
        break;
      case 'GS':
        if (gs) fail(s, undefined, 'opens a group before the GE of the previous one');
        if (at(s, 1) !== GS01_INVOICE) fail(s, 1, `is ${at(s, 1)}; an invoice group is ${GS01_INVOICE}`);
        gs = s;
        setsInGroup = 0;
        break;
      case 'ST':
        if (!gs) fail(s, undefined, 'is outside a GS/GE group');
        if (at(s, 1) !== ST01_INVOICE)
          fail(s, 1, `is ${at(s, 1)}; only ${ST01_INVOICE} (invoice) is accepted`);
        if (at(s, 2) === '') fail(s, 2, 'is required (transaction set control number)');
        setsInGroup++;
        tx = [s];
        break;
      case 'GE':
        if (!gs) fail(s, undefined, 'closes no group');
        if (at(s, 1) !== String(setsInGroup))
          fail(s, 1, `says ${at(s, 1)} transaction sets; the group has ${setsInGroup}`);
        if (at(s, 2) !== at(gs!, 6)) fail(s, 2, `(${at(s, 2)}) does not match GS06 (${at(gs!, 6)})`);
        gs = null;
        groups++;
        break;
      case 'IEA':
        if (gs) fail(s, undefined, 'closes the interchange inside a group (GE missing)');
        if (at(s, 1) !== String(groups)) fail(s, 1, `says ${at(s, 1)} groups; the interchange has ${groups}`);
        if (at(s, 2) !== at(isa!, 13)) fail(s, 2, `(${at(s, 2)}) does not match ISA13 (${at(isa!, 13)})`);
        ended = true;
        break;
      default:
        fail(s, undefined, 'is outside a transaction set (ST/SE)');
    }
  };
  // Segments are handled synchronously as the parser emits them (no promise per segment).
  await new Promise<void>((resolveAll, reject) => {
    stream.on('data', (raw: RawSegment) => {
      try {
        onSegment(raw);
      } catch (e) {
        stream.destroy();
        // An earlier invoice's error comes first; the broken document leaves the count unknown.
        reject(bad ? invoiceError(FORMAT, bad.error, bad.index, null, bad.location) : (e as Error));
      }
    });
    stream.on('error', reject);
    stream.on('end', resolveAll);
  });
  const last = { tag: 'IEA', elements: [], position: position + 1 };
  // Assigned by the segment handler: the compiler's narrowing does not see it.
  const open = tx as Segment[] | null;
  const failed = bad as { error: TriageError; index: number; location: string } | null;
  const complete = open === null && (ended as boolean);
  if (failed) throw invoiceError(FORMAT, failed.error, failed.index, complete ? sets : null, failed.location);
  if (open !== null)
    fail(
      { ...open[0]!, tag: 'SE', position: position + 1 },
      undefined,
      `is missing: transaction set ${at(open[0]!, 2)} is truncated`,
    );
  if (!(ended as boolean)) fail(last, undefined, 'is missing: the interchange is truncated');
  return out;
}

/** Human locator of a transaction set, by its ST: `ST02 0002 (segment 11)`. */
const setLocation = (st: Segment): string => `ST02 ${at(st, 2)} (segment ${st.position})`;

/** Canonical invoice of one ST..SE transaction set (tables of `intake/mapping/x12.ts`). */
function mapTransaction(tx: Segment[], isa: Segment, seps: X12Separators): ConvertedInvoice {
  const st = tx[0]!;
  const currency = transactionCurrency(tx);
  const numbers = documentNumbers(FORMAT, currency, X12_NUMERAL);
  // An N2 element is digits with an optional minus sign, two decimals implied (`11250` = 112.50).
  const n2 = (s: Segment, i: number): number => {
    if (!/^-?\d{1,15}$/.test(numeral(s, i)))
      fail(s, i, 'is not an N2 number (digits, optional minus sign; two decimals implied, no point)');
    refuseNegativeZero(FORMAT, numeral(s, i), where(s, i));
    return numbers.impliedTwoDecimals(Number(at(s, i)), where(s, i));
  };
  const inv: Record<string, unknown> = { currency: 'USD', document_type: 'invoice' };
  const vendor: Record<string, unknown> = {};
  const lines: Record<string, unknown>[] = [];
  const period: Record<string, string> = {};
  const terms: Record<string, number> = {};
  let role: 'vendor' | 'facility' | 'ignore' | null = null;
  let line: Record<string, unknown> | null = null;
  let seenBig = false;
  let seenTds = false;
  // Each SAC that became a line, with the index of its line.
  const sacs: { segment: Segment; line: number }[] = [];
  // Canonical pointer -> `/segments/<n>/<element>` it was read from (errors after conversion).
  const src = new SourceMap(where(st));
  src.mark('/invoice_id', where(st, 2));
  const mark = (pointer: string, s: Segment, i?: number): void => src.mark(pointer, where(s, i));
  const lineAt = (): string => `/lines/${lines.length - 1}`;
  const set = (
    target: Record<string, unknown>,
    path: string,
    value: unknown,
    s: Segment,
    i: number,
  ): void => {
    mark(`/${path.replace('.', '/')}`, s, i);
    const [a, b] = path.split('.');
    if (b === undefined) target[a!] = value;
    else if (a === 'payment_terms') terms[b] = value as number;
    else if (a === 'service_period') period[b] = value as string;
    else if (a === 'vendor') vendor[b] = value;
  };
  const int = (s: Segment, i: number): number => {
    const t = numeral(s, i);
    if (!/^-?\d{1,15}$/.test(t)) fail(s, i, 'must be an integer');
    return Number(t);
  };
  for (const s of tx.slice(1, -1)) {
    switch (s.tag) {
      case 'BIG': {
        seenBig = true;
        for (const [i, field] of Object.entries(HEADER_ELEMENTS.BIG)) {
          const v = at(s, Number(i));
          if (v !== '') set(inv, field, field === 'invoice_date' ? isoDate(v) : v, s, Number(i));
        }
        const type = at(s, 7);
        mark('/document_type', s, type === '' ? undefined : 7);
        if (type !== '') {
          const kind = ownValue(BIG07_DOCUMENT_TYPE, type);
          if (!kind) fail(s, 7, `has the unknown transaction type code ${type}`);
          inv.document_type = kind;
        }
        break;
      }
      case 'CUR':
        if (at(s, 2) !== '') set(inv, 'currency', at(s, 2), s, 2);
        break;
      case 'ITD':
        mark('/payment_terms', s);
        if (at(s, 3) !== '')
          set(inv, 'payment_terms.discount_percent', numbers.quantity(numeral(s, 3), where(s, 3)), s, 3);
        if (at(s, 5) !== '') set(inv, 'payment_terms.discount_days', int(s, 5), s, 5);
        if (at(s, 6) !== '') set(inv, 'due_date', isoDate(at(s, 6)), s, 6);
        if (at(s, 7) !== '') set(inv, 'payment_terms.net_days', int(s, 7), s, 7);
        break;
      case 'TDS': {
        seenTds = true;
        set(inv, 'total_cents', n2(s, 1), s, 1);
        line = null;
        break;
      }
      case 'N1': {
        const r = ownValue(N101_ROLE, at(s, 1));
        if (!r) fail(s, 1, `has the unknown entity identifier code ${at(s, 1)}`);
        role = r!;
        line = null;
        const q = at(s, 3);
        const id = at(s, 4);
        if (q !== '' && !Object.hasOwn(N103_VENDOR_FIELD, q))
          fail(s, 3, `has the unknown identification code qualifier ${q}`);
        if (role === 'vendor') {
          mark('/vendor', s);
          if (at(s, 2) !== '') set(inv, 'vendor.name', at(s, 2), s, 2);
          const f = ownValue(N103_VENDOR_FIELD, q);
          if (f && f !== 'ignore' && id !== '') set(inv, `vendor.${f}`, id, s, 4);
        } else if (role === 'facility' && id !== '') {
          set(inv, 'facility_id', id, s, 4);
        }
        break;
      }
      case 'REF': {
        const f = ownValue(REF01_FIELD, at(s, 1));
        if (!f) fail(s, 1, `has the unknown reference identification qualifier ${at(s, 1)}`);
        if (f === 'ignore' || at(s, 2) === '') break;
        if (f === 'po_number') {
          inv.po_number = at(s, 2);
          src.map.set('/po_number', where(s, 2)); // REF*PO overrides BIG04
        } else if (f === 'delivery_reference') {
          if (line) {
            line.delivery_reference = at(s, 2);
            mark(`${lineAt()}/delivery_reference`, s, 2);
          }
        } else if (role === 'vendor' && line === null) set(inv, f!, at(s, 2), s, 2);
        break;
      }
      case 'DTM': {
        const f = ownValue(DTM01_FIELD, at(s, 1));
        if (!f) fail(s, 1, `has the unknown date/time qualifier ${at(s, 1)}`);
        if (f === 'ignore') break;
        const d = isoDate(at(s, 2));
        if (f === 'service_date') {
          if (!line) fail(s, 1, 'is a service date (472) outside an IT1 loop');
          line!.service_date = d;
          mark(`${lineAt()}/service_date`, s, 2);
        } else set(inv, f!, d, s, 2);
        break;
      }
      case 'IT1': {
        role = null;
        line = mapIt1(s, numbers, seps);
        lines.push(line);
        for (const [pointer, element] of it1Sources(line, s)) src.mark(`${lineAt()}${pointer}`, element);
        break;
      }
      case 'PO4': {
        // PO401: inner pack units in one unit of the line (a BX of 100 EA: 100).
        if (!line) fail(s, undefined, 'describes no line (PO4 outside an IT1 loop)');
        const pack = at(s, 1);
        if (pack !== '') {
          if (!/^\d{1,7}$/.test(pack) || Number(pack) < 1)
            fail(s, 1, 'must be the pack (a whole number of units)');
          line!.pack_qty = Number(pack);
          mark(`${lineAt()}/pack_qty`, s, 1);
        }
        break;
      }
      case 'PID': {
        const kind = ownValue(PID01_TYPE, at(s, 1));
        if (!kind) fail(s, 1, `has the unknown item description type ${at(s, 1)}`);
        if (kind === 'ignore') break;
        if (!line) fail(s, undefined, 'describes no line (PID outside an IT1 loop)');
        if (kind === 'structured') {
          const system = ownValue(PID03_LINE_CODE, at(s, 3));
          // The IT1's own code is what the line bills; a classification beside it adds nothing.
          if (!system || line!.code) break;
          if (at(s, 4) === '') fail(s, 4, `is empty; PID03 ${at(s, 3)} requires its code`);
          line!.code = { system, value: at(s, 4) };
          mark(`${lineAt()}/code`, s, 4);
          break;
        }
        const text = at(s, 5);
        line!.description = line!.description ? `${String(line!.description)} ${text}` : text;
        mark(`${lineAt()}/description`, s, 5);
        break;
      }
      case 'SAC': {
        const sign = ownValue(SAC01_SIGN, at(s, 1));
        if (sign === undefined) fail(s, 1, `has the unknown allowance or charge indicator ${at(s, 1)}`);
        if (sign === 0) break;
        const code = at(s, 2);
        const name = ownValue(SAC02_DESCRIPTION, code);
        if (!name) fail(s, 2, `has the unknown service, promotion, allowance or charge code ${code}`);
        const amount = sign! * Math.abs(n2(s, 5));
        sacs.push({ segment: s, line: lines.length });
        lines.push({
          line_number: 0,
          description: at(s, 15) !== '' ? at(s, 15) : name,
          code: { system: 'OTHER', value: code },
          quantity: 1,
          unit_price_cents: amount,
          amount_cents: amount,
        });
        mark(lineAt(), s);
        for (const f of ['/quantity', '/unit_price_cents', '/amount_cents']) mark(`${lineAt()}${f}`, s, 5);
        mark(`${lineAt()}/description`, s, at(s, 15) !== '' ? 15 : 2);
        line = null;
        break;
      }
      default:
        break;
    }
  }
  if (!seenBig) fail({ ...st, tag: 'BIG' }, undefined, `is missing in transaction set ${at(st, 2)}`);
  if (!seenTds) fail({ ...st, tag: 'TDS' }, undefined, `is missing in transaction set ${at(st, 2)}`);
  if (inv.document_type === 'credit_memo') creditMemoSacs(sacs, lines);
  // SAC lines take the numbers after the last IT1 line.
  let next = lines.reduce((m, l) => Math.max(m, Number(l.line_number) || 0), 0);
  for (const l of lines) if (l.line_number === 0) l.line_number = ++next;
  if (Object.keys(terms).length > 0) inv.payment_terms = terms;
  if (Object.keys(period).length > 0) inv.service_period = period;
  const sender = at(isa, 6).replace(/\s+/g, '');
  const control = `${at(isa, 13)}-${at(st, 2)}`;
  const invoice = defined({ invoice_id: `${sender}-${control}`, vendor, ...inv, lines });
  creditSigns(invoice);
  return {
    invoice,
    location: setLocation(st),
    documentRef: `ISA13 ${at(isa, 13)} / ST02 ${at(st, 2)}`,
    sources: src.map,
  };
}

/**
 * The SAC lines of a credit memo in its sign convention, whichever sign its amounts arrive in:
 * TDS01 is the lines plus the charges less the allowances, all of it credited, so a charge is
 * credited like a line (quantity -1, amount minus SAC05, unit price SAC05: what `creditSigns`
 * makes of a positive line) and the total check sums it with the lines.
 * @throws TriageError 400 at the SAC01 of an allowance (`SAC*A`): it would be a positive line,
 *   which a credit memo never has, as UBL refuses it ({@link CREDIT_MEMO_ALLOWANCE}).
 */
function creditMemoSacs(
  sacs: readonly { segment: Segment; line: number }[],
  lines: Record<string, unknown>[],
): void {
  for (const { segment, line } of sacs) {
    const l = lines[line]!;
    const cents = Math.abs(l.amount_cents as number);
    if (ownValue(SAC01_SIGN, at(segment, 1)) === -1) fail(segment, 1, CREDIT_MEMO_ALLOWANCE);
    Object.assign(l, { quantity: -1, unit_price_cents: cents, amount_cents: cents === 0 ? 0 : -cents });
  }
}

/**
 * CUR02 of a transaction set (default USD): it sets the minor unit of every amount of the set,
 * wherever CUR stands, so it is checked before any amount is read.
 * @throws TriageError 400 at a CUR02 that is not ISO 4217, or that differs from an earlier one.
 */
function transactionCurrency(tx: Segment[]): string {
  let first: Segment | undefined;
  for (const s of tx) {
    if (s.tag !== 'CUR' || at(s, 2) === '') continue;
    const problem = currencyProblem(at(s, 2));
    if (problem !== undefined) fail(s, 2, problem);
    if (first && at(s, 2) !== at(first, 2))
      fail(
        s,
        2,
        `(${at(s, 2)}) differs from CUR02 ${at(first, 2)} (segment ${first.position}): one currency per invoice`,
      );
    first ??= s;
  }
  return first ? at(first, 2) : 'USD';
}

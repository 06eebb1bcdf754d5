/**
 * UBL 2.1 Invoice / CreditNote (Peppol BIS Billing 3.0) adapter: one XML document to one
 * canonical invoice, read as a stream of SAX events (`saxes`, a conformant non-validating
 * parser): no DOM is built, only the mapped values of `intake/mapping/ubl.ts` are kept.
 *
 * XML safety: a document type declaration (`<!DOCTYPE`, hence any entity declaration, external
 * entity or "billion laughs" expansion) is refused as soon as the parser reports it; saxes
 * expands only the five predefined entities and character references, and an undefined entity
 * is an error. Nesting deeper than {@link UBL_MAX_DEPTH} and element text over 10,000
 * characters are refused. Every refusal is a 400 naming the element by its path, e.g.
 * `/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount`.
 *
 * A CreditNote (or an Invoice with type code 381) becomes a credit memo with a negative total,
 * negative line amounts and quantities. Without `cbc:UUID` the invoice id is
 * `ubl-<first 32 hex of the document's sha256>`.
 */
import { ownValue } from '../core/own.js';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { TriageError } from '../core/errors.js';
import { NotUtf8Error, UTF8_NAMES, decodeUtf8, lineOfOffset } from '../core/utf8.js';
import {
  creditSigns,
  defined,
  documentError,
  documentNumbers,
  isoDate,
  SourceMap,
  type ConvertedInvoice,
  XSD_DECIMAL,
} from './document.js';
import {
  UBL_ALLOWANCE_CHARGE,
  UBL_CLASSIFICATION_PATH,
  UBL_CURRENCY_CHECKED,
  UBL_FORMAT,
  UBL_MONETARY_TOTAL,
  UBL_HEADER,
  UBL_ITEM_ID_PATHS,
  UBL_LINE,
  UBL_LIST_ID,
  UBL_MAX_DEPTH,
  UBL_MODIFIER_PROPERTY,
  UBL_NAMESPACES,
  UBL_NPI_SCHEME,
  UBL_ORDER_LINE_PATH,
  UBL_PACK_SIZE_PATH,
  UBL_SINGLE_PATHS,
  UBL_PARTY_ID_PATH,
  UBL_ROOTS,
  UBL_TAX_AMOUNT,
  UBL_UNIT_CODES,
  UNCL1001_DOCUMENT_TYPE,
  type UblValue,
} from './mapping/ubl.js';
import {
  appendAllowanceCharges,
  checkPayable,
  checkTaxTotals,
  readAllowanceCharge,
  type AllowanceChargeRaw,
} from './ubl-totals.js';

/** Longest text of one element, characters. */
const MAX_TEXT = 10_000;

/** A mapped value as read, converted once the document's decimal separator is known. */
export interface RawValue {
  text: string;
  kind: UblValue;
  /** Element path for errors. */
  where: string;
  /** The element's `currencyID` attribute (amounts), when present. */
  currencyId?: string | undefined;
}

interface LineRaw {
  values: Map<string, RawValue>;
  code?: { system: string; value: string };
  modifiers: string[];
  uom?: string;
  items: string[];
  poLine?: number;
  pack?: number;
  where: string;
}

/** The canonical unit of a UN/ECE Rec 20 `unitCode` (see {@link UBL_UNIT_CODES}), or undefined. */
function unitOf(code: string | undefined): string | undefined {
  const c = (code ?? '').trim().toUpperCase();
  const mapped = ownValue(UBL_UNIT_CODES, c);
  if (mapped !== undefined) return mapped ?? undefined;
  return /^[A-Z]{1,8}$/.test(c) ? c : undefined;
}

/** A whole number from 1 to `max` written in `text`, or undefined. */
function whole(text: string, max: number): number | undefined {
  const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= max ? n : undefined;
}

const HEADER = new Map(UBL_HEADER.map(([path, field, kind]) => [path, { field, kind }]));
const LINE = new Map(UBL_LINE.map(([path, field, kind]) => [path, { field, kind }]));

/** The XML declaration's `encoding` at the start of a document (read from its bytes as Latin-1). */
const DECLARED_ENCODING = /^(?:\xEF\xBB\xBF)?<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([^"']*)\1/;

/** The refusal of a document declaring an encoding other than UTF-8 (its text would be misread). */
const encodingRefused = (encoding: string): TriageError =>
  documentError(
    UBL_FORMAT,
    '/',
    `declares encoding="${encoding}"; only UTF-8 documents are read (convert the document to UTF-8)`,
  );

/**
 * The text of a UBL document, decoded strictly as UTF-8 (a byte-order mark kept): never with
 * replacement characters.
 * @throws TriageError 400 `TRIAGE_INPUT_INVALID` at `/` naming the declared encoding when the
 *   XML declaration names another than UTF-8 (ISO-8859-1...), or the byte offset and line of
 *   the first byte that is not UTF-8.
 */
export function ublText(doc: Buffer): string {
  const declared = DECLARED_ENCODING.exec(doc.subarray(0, 512).toString('latin1'))?.[2];
  if (declared !== undefined && !UTF8_NAMES.has(declared.toLowerCase())) throw encodingRefused(declared);
  try {
    return decodeUtf8(doc);
  } catch (e) {
    if (!(e instanceof NotUtf8Error)) throw e;
    throw documentError(UBL_FORMAT, '/', `${e.message} on line ${lineOfOffset(doc, e.offset)}`);
  }
}

/**
 * Converts one UBL 2.1 Invoice or CreditNote.
 * @param doc the document's text ({@link ublText}).
 * @param sha256 the document's sha256 (the invoice id when it has no `cbc:UUID`).
 * @throws TriageError 400 `TRIAGE_INPUT_INVALID` naming the element (see the module doc).
 */
export function convertUbl(doc: string, sha256: string): ConvertedInvoice {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: { name: string; attrs: Record<string, string> }[] = [];
  let root: keyof typeof UBL_ROOTS | null = null;
  let text = '';
  const header = new Map<string, RawValue>();
  const partyIds: { scheme: string; value: string; where: string }[] = [];
  const currencies: { currencyId: string; where: string }[] = [];
  const monetaryTotals: { text: string; where: string }[] = [];
  const lines: LineRaw[] = [];
  const charges: AllowanceChargeRaw[] = [];
  const taxAmounts: string[] = [];
  /** Where each element of {@link UBL_SINGLE_PATHS} was read. */
  const singles = new Map<string, string>();
  let charge: AllowanceChargeRaw | null = null;
  let line: LineRaw | null = null;
  let lineDepth = -1;
  let property: { name?: string; value?: string } | null = null;

  const xpath = (): string =>
    '/' +
    [root ?? '', ...stack.map((e, i) => (i === lineDepth ? `${e.name}[${lines.length}]` : e.name))].join('/');
  const fail = (message: string, where = xpath()): never => {
    throw documentError(UBL_FORMAT, where, message);
  };

  parser.on('doctype', () =>
    fail('has a document type declaration (<!DOCTYPE>): DTDs and entities are refused', '/'),
  );
  parser.on('error', (e) => fail(`is not well-formed XML (${e.message})`));
  parser.on('xmldecl', (d) => {
    if (d.encoding !== undefined && !UTF8_NAMES.has(d.encoding.toLowerCase()))
      throw encodingRefused(d.encoding);
  });
  parser.on('opentag', (t: SaxesTagNS) => {
    const prefix = ownValue(UBL_NAMESPACES, t.uri);
    if (root === null) {
      if (!Object.hasOwn(UBL_ROOTS, t.local) || prefix !== '')
        fail(
          `is not a UBL 2.1 Invoice or CreditNote (root element ${t.local} in namespace '${t.uri}')`,
          `/${t.local}`,
        );
      root = t.local as keyof typeof UBL_ROOTS;
      return;
    }
    if (stack.length >= UBL_MAX_DEPTH) fail(`nests deeper than ${UBL_MAX_DEPTH} elements`);
    const attrs: Record<string, string> = {};
    for (const a of Object.values(t.attributes)) if (a.uri === '') attrs[a.local] = a.value;
    stack.push({ name: prefix === undefined ? `{${t.uri}}${t.local}` : `${prefix}${t.local}`, attrs });
    text = '';
    if (stack.length === 1 && stack[0]!.name === UBL_ROOTS[root].line) {
      lineDepth = 0;
      line = { values: new Map(), modifiers: [], items: [], where: '' };
      lines.push(line);
      line.where = xpath();
    }
    if (stack.length === 1 && stack[0]!.name === UBL_ALLOWANCE_CHARGE.element) {
      charge = { where: `${xpath()}[${charges.length + 1}]` };
      charges.push(charge);
    }
    if (
      line &&
      stack
        .map((e) => e.name)
        .slice(1)
        .join('/') === 'cac:Item/cac:AdditionalItemProperty'
    )
      property = {};
  });
  // Character data (CDATA sections) is text like any other: `CPAP <![CDATA[<device>]]> unit`
  // reads `CPAP <device> unit`.
  const addText = (t: string): void => {
    text += t;
    if (text.length > MAX_TEXT) fail(`has more than ${MAX_TEXT} characters of text`);
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    if (stack.length === 0) return; // the root
    const path = stack.map((e) => e.name).join('/');
    const { attrs } = stack[stack.length - 1]!;
    const value = text.trim();
    const where = xpath();
    if (line) {
      const rel = stack
        .slice(1)
        .map((e) => e.name)
        .join('/');
      const m = LINE.get(rel);
      if (m && !line.values.has(m.field))
        line.values.set(m.field, { text: value, kind: m.kind, where, currencyId: attrs.currencyID });
      if (rel === UBL_ROOTS[root!].quantity) {
        line.values.set('quantity', { text: value, kind: 'quantity', where });
        line.uom = unitOf(attrs.unitCode);
      }
      if (UBL_ITEM_ID_PATHS.includes(rel) && value !== '' && value.length <= 64)
        if (line.items.length < 8 && !line.items.includes(value)) line.items.push(value);
      if (rel === UBL_ORDER_LINE_PATH) line.poLine ??= whole(value, 100_000);
      if (rel === UBL_PACK_SIZE_PATH) line.pack ??= whole(value, 1_000_000);
      if (rel === UBL_CLASSIFICATION_PATH && !line.code) {
        const system = ownValue(UBL_LIST_ID, attrs.listID ?? '');
        if (!system)
          fail(
            `has the unknown listID '${attrs.listID ?? ''}' (known: ${Object.keys(UBL_LIST_ID).join(', ')})`,
          );
        line.code = { system: system!, value };
      }
      if (property && rel === 'cac:Item/cac:AdditionalItemProperty/cbc:Name') property.name = value;
      if (property && rel === 'cac:Item/cac:AdditionalItemProperty/cbc:Value') property.value = value;
      if (property && rel === 'cac:Item/cac:AdditionalItemProperty') {
        if (property.name === UBL_MODIFIER_PROPERTY && property.value) line.modifiers.push(property.value);
        property = null;
      }
      if (stack.length === 1) {
        line = null;
        lineDepth = -1;
      }
    } else if (charge) {
      const at = readAllowanceCharge(charge, path, value, attrs.currencyID);
      if (attrs.currencyID !== undefined) currencies.push({ currencyId: attrs.currencyID, where: at });
      if (stack.length === 1) charge = null;
    } else {
      const m = HEADER.get(path);
      if (UBL_SINGLE_PATHS.has(path)) {
        // A second invoice number, id, date or total would be passed over unseen (the first is read).
        if (singles.has(path))
          fail(`appears twice; UBL 2.1 allows one (the first is at ${singles.get(path)})`);
        singles.set(path, where);
      }
      if (path === UBL_TAX_AMOUNT)
        taxAmounts.push(where.replace('/cac:TaxTotal/', `/cac:TaxTotal[${taxAmounts.length + 1}]/`));
      if (m && !header.has(m.field))
        header.set(m.field, { text: value, kind: m.kind, where, currencyId: attrs.currencyID });
      if (path === UBL_ROOTS[root!].typeCode) header.set('type_code', { text: value, kind: 'text', where });
      if (path === UBL_PARTY_ID_PATH) partyIds.push({ scheme: attrs.schemeID ?? '', value, where });
      if (attrs.currencyID !== undefined && UBL_CURRENCY_CHECKED.some((g) => path.startsWith(g)))
        currencies.push({ currencyId: attrs.currencyID, where });
      if (path.startsWith(UBL_MONETARY_TOTAL) && !path.includes('/', UBL_MONETARY_TOTAL.length))
        monetaryTotals.push({ text: value, where });
    }
    stack.pop();
    text = '';
  });
  parser.write(doc).close();
  if (root === null) fail('has no root element', '/');
  return build(root!, header, partyIds, lines, charges, taxAmounts, sha256, currencies, monetaryTotals);
}

/** The canonical invoice from the values read. */
function build(
  root: keyof typeof UBL_ROOTS,
  header: Map<string, RawValue>,
  partyIds: { scheme: string; value: string; where: string }[],
  lines: LineRaw[],
  charges: readonly AllowanceChargeRaw[],
  taxAmounts: readonly string[],
  sha256: string,
  currencies: readonly { currencyId: string; where: string }[],
  monetaryTotals: readonly { text: string; where: string }[],
): ConvertedInvoice {
  const currency = header.get('currency')?.text;
  const foreign = currency === undefined ? undefined : currencies.find((c) => c.currencyId !== currency);
  if (foreign)
    throw documentError(
      UBL_FORMAT,
      foreign.where,
      `has currencyID ${foreign.currencyId}, not the document currency ${currency}`,
    );
  checkTaxTotals(taxAmounts);
  const numbers = documentNumbers(UBL_FORMAT, currency ?? null, XSD_DECIMAL);
  // Every amount of LegalMonetaryTotal is an amount, also those not read (LineExtensionAmount,
  // TaxExclusiveAmount, AllowanceTotalAmount, ChargeTotalAmount).
  for (const t of monetaryTotals) numbers.cents(t.text, t.where);
  const read = (v: RawValue | undefined): unknown => {
    if (!v) return undefined;
    switch (v.kind) {
      case 'money':
        // One currency per invoice: an amount in another cannot be summed with the others.
        if (v.currencyId !== undefined && currency !== undefined && v.currencyId !== currency)
          throw documentError(
            UBL_FORMAT,
            v.where,
            `has currencyID ${v.currencyId}, not the document currency ${currency}`,
          );
        return numbers.cents(v.text, v.where);
      case 'quantity':
        return numbers.quantity(v.text, v.where);
      case 'date':
        return isoDate(v.text);
      case 'integer':
        if (!/^\d{1,6}$/.test(v.text))
          throw documentError(UBL_FORMAT, v.where, 'must be a line number (1 to 6 digits)');
        return Number(v.text);
      default:
        return v.text;
    }
  };
  const h = (field: string): unknown => read(header.get(field));
  const typeCode = header.get('type_code');
  let documentType: string = root === 'CreditNote' ? 'credit_memo' : 'invoice';
  if (typeCode) {
    const t = ownValue(UNCL1001_DOCUMENT_TYPE, typeCode.text);
    if (!t)
      throw documentError(UBL_FORMAT, typeCode.where, `has the unknown document type code ${typeCode.text}`);
    documentType = root === 'CreditNote' ? 'credit_memo' : t;
  }
  const vendorIdAt = partyIds.find((p) => p.scheme !== UBL_NPI_SCHEME);
  const npiAt = partyIds.find((p) => p.scheme === UBL_NPI_SCHEME);
  const vendorId = vendorIdAt?.value;
  const npi = npiAt?.value;
  // Canonical pointer -> element path it was read from (errors after conversion).
  const src = new SourceMap(`/${root}`);
  for (const [field, v] of header) src.mark(`/${field.replace('.', '/')}`, v.where);
  const alias = (pointer: string, field: string): void => {
    const v = header.get(field);
    if (v) src.mark(pointer, v.where);
  };
  alias('/vendor/name', 'vendor.legal_name');
  if (vendorIdAt) src.mark('/vendor/id', vendorIdAt.where);
  if (npiAt) src.mark('/vendor/npi', npiAt.where);
  alias('/total_cents', 'payable_cents');
  alias('/document_type', 'type_code');
  lines.forEach((l, i) => {
    src.mark(`/lines/${i}`, l.where);
    for (const [field, v] of l.values)
      src.mark(`/lines/${i}/${field === 'name' ? 'description' : field}`, v.where);
  });
  // Both totals are read (checked for format and currency) even when only one is used.
  const taxInclusive = h('total_cents');
  const payable = h('payable_cents');
  checkPayable(header, taxInclusive, payable, h('prepaid_cents'), h('payable_rounding_cents'));
  const start = h('service_period.start');
  const end = h('service_period.end');
  const invoice = defined({
    invoice_id: (h('invoice_id') as string | undefined) ?? `ubl-${sha256.slice(0, 32)}`,
    vendor: defined({
      id: vendorId,
      name: (h('vendor.name') ?? h('vendor.legal_name')) as string | undefined,
      tax_id: h('vendor.tax_id'),
      npi,
    }),
    invoice_number: h('invoice_number'),
    invoice_date: h('invoice_date'),
    due_date: h('due_date'),
    currency: h('currency'),
    total_cents: taxInclusive ?? payable,
    tax_cents: h('tax_cents'),
    document_type: documentType,
    po_number: h('po_number'),
    facility_id: h('facility_id'),
    service_period: start !== undefined || end !== undefined ? { start, end } : undefined,
    lines: lines.map((l) => {
      const v = (f: string): unknown => read(l.values.get(f));
      const base = l.values.get('base_quantity');
      if (base && v('base_quantity') !== 1)
        throw documentError(UBL_FORMAT, base.where, 'must be 1 (prices per base quantity are not supported)');
      return defined({
        line_number: v('line_number'),
        description: v('description') ?? v('name'),
        code: l.code,
        modifiers: l.modifiers.length > 0 ? l.modifiers : undefined,
        quantity: v('quantity'),
        unit_price_cents: v('unit_price_cents'),
        amount_cents: v('amount_cents'),
        service_date: v('service_date'),
        uom: l.uom,
        pack_qty: l.pack,
        item_identifiers: l.items.length > 0 ? l.items : undefined,
        po_line_number: l.poLine,
        delivery_reference: v('delivery_reference'),
      });
    }),
  });
  appendAllowanceCharges(invoice, charges, read, documentType, src);
  creditSigns(invoice);
  return { invoice, location: `/${root}`, documentRef: `UBL ${root}`, sources: src.map };
}

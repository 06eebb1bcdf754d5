/**
 * Writers of the intake formats from canonical invoices, for the committed samples
 * (`datasets/samples/intake/`), the tests and the conversion benchmark: an ASC X12 810
 * interchange, UBL 2.1 Invoice / CreditNote documents and a FHIR R4 Bundle of Invoices. Each
 * writes what `intake/` reads back (the mapping tables of `intake/mapping/`), so that reading a
 * written invoice gives the invoice again (with `source` added, and the X12 invoice id).
 */
import type { CodeSystem, Invoice, InvoiceLine } from '../core/invoice.js';
import { IT1_PRODUCT_QUALIFIER, PID03_LINE_CODE } from '../intake/mapping/x12.js';

/** Separators and envelope ids of a written interchange. */
export interface X12WriteOptions {
  /** ISA06 interchange sender id (15 characters, space-padded). */
  sender: string;
  /** ISA13 interchange control number (9 digits). */
  control: number;
  /** Element, component (ISA16), repetition (ISA11) separators and segment terminator. */
  element?: string;
  component?: string;
  repetition?: string;
  terminator?: string;
  /** Written after each segment terminator (e.g. `\n`); default none. */
  newline?: string;
}

const pad = (s: string, n: number): string => s.padEnd(n, ' ').slice(0, n);
const yyyymmdd = (d: string): string => d.replaceAll('-', '');
/** Cents as a decimal with 2 digits (`1875` -> `18.75`, `-5` -> `-0.05`) without floats. */
export function decimalOfCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const a = String(Math.abs(cents)).padStart(3, '0');
  return `${sign}${a.slice(0, -2)}.${a.slice(-2)}`;
}

/** The key of `table` whose value is `system`, if any (the reader's tables, written back). */
const keyOf = (table: Readonly<Record<string, string>>, system: CodeSystem): string | undefined =>
  Object.keys(table).find((k) => table[k] === system);

/**
 * Where an X12 line writes its code, as the reader maps it back (intake/mapping/x12.ts): an IT1
 * product/service ID qualifier (HCPCS `HC`, CPT `CJ`, NDC `N4`), else a structured PID's agency
 * (UNSPSC `PID*S**UA*<code>`).
 * @throws Error for a code system X12 has no qualifier for (`OTHER`): written without one, it
 *   would not be read back.
 */
function x12CodePlace(system: CodeSystem): { it1: string } | { pid: string } {
  const it1 = keyOf(IT1_PRODUCT_QUALIFIER, system);
  if (it1 !== undefined) return { it1 };
  const pid = keyOf(PID03_LINE_CODE, system);
  if (pid !== undefined) return { pid };
  throw new Error(`code system ${system} has no X12 product/service ID qualifier`);
}

/** The invoice id `intake/x12.ts` gives transaction set `n` (1-based) of an interchange. */
export function x12InvoiceId(o: X12WriteOptions, n: number): string {
  return `${o.sender.replace(/\s+/g, '')}-${String(o.control).padStart(9, '0')}-${String(n).padStart(4, '0')}`;
}

/**
 * One X12 810 interchange (ISA, one GS group, one ST/SE per invoice, GE, IEA) carrying
 * `invoices`. Credit memos are written with BIG07 `CR` and positive amounts.
 * @throws Error when a value contains a separator, a line's code system has no X12 qualifier
 *   (`OTHER`) or a UNSPSC code (a PID, not an IT1 composite) has modifiers.
 */
export function writeX12(invoices: readonly Invoice[], o: X12WriteOptions): string {
  const el = o.element ?? '*';
  const comp = o.component ?? '>';
  const rep = o.repetition ?? '^';
  const term = (o.terminator ?? '~') + (o.newline ?? '');
  const control = String(o.control).padStart(9, '0');
  const seg = (...parts: string[]): string => {
    for (const p of parts.slice(1))
      if ([el, rep, o.terminator ?? '~'].some((s) => p.includes(s)))
        throw new Error(`value ${JSON.stringify(p)} contains a separator`);
    let n = parts.length;
    while (n > 1 && parts[n - 1] === '') n--;
    return parts.slice(0, n).join(el) + term;
  };
  let out =
    [
      'ISA',
      '00',
      pad('', 10),
      '00',
      pad('', 10),
      'ZZ',
      pad(o.sender, 15),
      'ZZ',
      pad('HOSPITALAP', 15),
      '250301',
      '1200',
      rep,
      '00501',
      control,
      '0',
      'P',
      comp,
    ].join(el) + term;
  out += seg('GS', 'IN', o.sender.trim(), 'HOSPITALAP', '20250301', '1200', String(o.control), 'X', '005010');
  invoices.forEach((inv, i) => {
    const credit = inv.document_type === 'credit_memo';
    const abs = (x: number): number => (credit ? Math.abs(x) : x);
    const st = String(i + 1).padStart(4, '0');
    const body: string[] = [];
    const type = inv.document_type === 'credit_memo' ? 'CR' : inv.document_type === 'debit_memo' ? 'DR' : '';
    body.push(
      seg('BIG', yyyymmdd(inv.invoice_date), inv.invoice_number, '', inv.po_number ?? '', '', '', type),
    );
    if (inv.currency !== 'USD') body.push(seg('CUR', 'SE', inv.currency));
    if (inv.po_number) body.push(seg('REF', 'PO', inv.po_number));
    body.push(seg('N1', 'VN', inv.vendor.name, '92', inv.vendor.id));
    if (inv.vendor.tax_id) body.push(seg('REF', 'TJ', inv.vendor.tax_id));
    if (inv.vendor.npi) body.push(seg('REF', 'HPI', inv.vendor.npi));
    if (inv.facility_id) body.push(seg('N1', 'ST', inv.facility_id, '92', inv.facility_id));
    const t = inv.payment_terms;
    if (inv.due_date || t)
      body.push(
        seg(
          'ITD',
          '01',
          '3',
          t?.discount_percent !== undefined ? String(t.discount_percent) : '',
          '',
          t?.discount_days !== undefined ? String(t.discount_days) : '',
          inv.due_date ? yyyymmdd(inv.due_date) : '',
          t?.net_days !== undefined ? String(t.net_days) : '',
        ),
      );
    if (inv.service_period) {
      body.push(seg('DTM', '150', yyyymmdd(inv.service_period.start)));
      body.push(seg('DTM', '151', yyyymmdd(inv.service_period.end)));
    }
    for (const l of inv.lines) {
      const place = l.code ? x12CodePlace(l.code.system) : null;
      const it1 =
        place && 'it1' in place ? [place.it1, [l.code!.value, ...(l.modifiers ?? [])].join(comp)] : [];
      body.push(
        seg(
          'IT1',
          String(l.line_number),
          String(abs(l.quantity)),
          'UN',
          decimalOfCents(l.unit_price_cents),
          '',
          ...it1,
        ),
      );
      body.push(seg('PID', 'F', '', '', '', l.description));
      if (place && 'pid' in place) {
        if (l.modifiers?.length) throw new Error(`a ${l.code!.system} code carries no modifiers in X12`);
        body.push(seg('PID', 'S', '', place.pid, l.code!.value));
      }
      if (l.service_date) body.push(seg('DTM', '472', yyyymmdd(l.service_date)));
    }
    body.push(seg('TDS', String(abs(inv.total_cents))));
    out += seg('ST', '810', st) + body.join('') + seg('SE', String(body.length + 2), st);
  });
  out += seg('GE', String(invoices.length), String(o.control));
  out += seg('IEA', '1', control);
  return out;
}

const xml = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** One UBL 2.1 document: an Invoice, or a CreditNote for a credit memo (amounts positive). */
export function writeUbl(inv: Invoice): string {
  const credit = inv.document_type === 'credit_memo';
  const root = credit ? 'CreditNote' : 'Invoice';
  const money = (c: number): string =>
    `currencyID="${inv.currency}">${decimalOfCents(credit ? Math.abs(c) : c)}`;
  const parts: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<${root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:${root}-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">`,
    `  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>`,
    `  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>`,
    `  <cbc:ID>${xml(inv.invoice_number)}</cbc:ID>`,
    `  <cbc:UUID>${xml(inv.invoice_id)}</cbc:UUID>`,
    `  <cbc:IssueDate>${inv.invoice_date}</cbc:IssueDate>`,
  ];
  if (inv.due_date && !credit) parts.push(`  <cbc:DueDate>${inv.due_date}</cbc:DueDate>`);
  parts.push(
    credit
      ? `  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>`
      : `  <cbc:InvoiceTypeCode>${inv.document_type === 'debit_memo' ? 383 : 380}</cbc:InvoiceTypeCode>`,
    `  <cbc:DocumentCurrencyCode>${inv.currency}</cbc:DocumentCurrencyCode>`,
  );
  if (inv.service_period)
    parts.push(
      `  <cac:InvoicePeriod><cbc:StartDate>${inv.service_period.start}</cbc:StartDate><cbc:EndDate>${inv.service_period.end}</cbc:EndDate></cac:InvoicePeriod>`,
    );
  if (inv.po_number)
    parts.push(`  <cac:OrderReference><cbc:ID>${xml(inv.po_number)}</cbc:ID></cac:OrderReference>`);
  const v = inv.vendor;
  parts.push(
    `  <cac:AccountingSupplierParty><cac:Party>`,
    `    <cac:PartyIdentification><cbc:ID>${xml(v.id)}</cbc:ID></cac:PartyIdentification>`,
    ...(v.npi
      ? [`    <cac:PartyIdentification><cbc:ID schemeID="NPI">${v.npi}</cbc:ID></cac:PartyIdentification>`]
      : []),
    `    <cac:PartyName><cbc:Name>${xml(v.name)}</cbc:Name></cac:PartyName>`,
    ...(v.tax_id
      ? [
          `    <cac:PartyTaxScheme><cbc:CompanyID>${xml(v.tax_id)}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>`,
        ]
      : []),
    `  </cac:Party></cac:AccountingSupplierParty>`,
  );
  if (inv.facility_id)
    parts.push(
      `  <cac:Delivery><cac:DeliveryLocation><cbc:ID>${xml(inv.facility_id)}</cbc:ID></cac:DeliveryLocation></cac:Delivery>`,
    );
  if (inv.due_date && credit)
    parts.push(
      `  <cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentDueDate>${inv.due_date}</cbc:PaymentDueDate></cac:PaymentMeans>`,
    );
  const sum = inv.lines.reduce((a, l) => a + l.amount_cents, 0);
  parts.push(
    `  <cac:LegalMonetaryTotal><cbc:LineExtensionAmount ${money(sum)}</cbc:LineExtensionAmount><cbc:TaxInclusiveAmount ${money(inv.total_cents)}</cbc:TaxInclusiveAmount><cbc:PayableAmount ${money(inv.total_cents)}</cbc:PayableAmount></cac:LegalMonetaryTotal>`,
  );
  for (const l of inv.lines) parts.push(ublLine(l, credit, money));
  parts.push(`</${root}>`, '');
  return parts.join('\n');
}

function ublLine(l: InvoiceLine, credit: boolean, money: (c: number) => string): string {
  const q = credit ? 'CreditedQuantity' : 'InvoicedQuantity';
  const tag = credit ? 'CreditNoteLine' : 'InvoiceLine';
  const mods = (l.modifiers ?? [])
    .map(
      (m) =>
        `<cac:AdditionalItemProperty><cbc:Name>HCPCS modifier</cbc:Name><cbc:Value>${m}</cbc:Value></cac:AdditionalItemProperty>`,
    )
    .join('');
  return [
    `  <cac:${tag}>`,
    `    <cbc:ID>${l.line_number}</cbc:ID>`,
    `    <cbc:${q} unitCode="C62">${Math.abs(l.quantity)}</cbc:${q}>`,
    `    <cbc:LineExtensionAmount ${money(l.amount_cents)}</cbc:LineExtensionAmount>`,
    ...(l.service_date
      ? [`    <cac:InvoicePeriod><cbc:StartDate>${l.service_date}</cbc:StartDate></cac:InvoicePeriod>`]
      : []),
    `    <cac:Item><cbc:Name>${xml(l.description)}</cbc:Name>` +
      (l.code
        ? `<cac:CommodityClassification><cbc:ItemClassificationCode listID="${l.code.system}">${xml(l.code.value)}</cbc:ItemClassificationCode></cac:CommodityClassification>`
        : '') +
      `${mods}</cac:Item>`,
    `    <cac:Price><cbc:PriceAmount ${money(l.unit_price_cents)}</cbc:PriceAmount></cac:Price>`,
    `  </cac:${tag}>`,
  ].join('\n');
}

const FHIR_SYSTEM: Record<string, string> = {
  HCPCS: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
  CPT: 'http://www.ama-assn.org/go/cpt',
  NDC: 'http://hl7.org/fhir/sid/ndc',
  UNSPSC: 'http://www.unspsc.org',
};

/** A FHIR R4 decimal for cents: the JSON number `18.75` for 1875 (read back without floats). */
const fhirMoney = (cents: number, currency: string): { value: number; currency: string } => ({
  value: Number(decimalOfCents(cents)),
  currency,
});

/** One FHIR R4 Invoice resource (credit memos with type `credit-memo` and negative amounts). */
export function fhirInvoice(inv: Invoice): Record<string, unknown> {
  const v = inv.vendor;
  const ext: Record<string, unknown>[] = [];
  if (inv.due_date) ext.push({ url: 'urn:invoice-triage:fhir:due-date', valueDate: inv.due_date });
  if (inv.po_number) ext.push({ url: 'urn:invoice-triage:fhir:po-number', valueString: inv.po_number });
  if (inv.service_period)
    ext.push({ url: 'urn:invoice-triage:fhir:service-period', valuePeriod: { ...inv.service_period } });
  return {
    resourceType: 'Invoice',
    id: inv.invoice_id,
    ...(ext.length > 0 ? { extension: ext } : {}),
    contained: [
      {
        resourceType: 'Organization',
        id: 'vendor',
        identifier: [
          { system: 'urn:invoice-triage:vendor-master', value: v.id },
          ...(v.npi ? [{ system: 'http://hl7.org/fhir/sid/us-npi', value: v.npi }] : []),
          ...(v.tax_id ? [{ system: 'urn:oid:2.16.840.1.113883.4.4', value: v.tax_id }] : []),
        ],
        name: v.name,
      },
    ],
    identifier: [{ use: 'official', value: inv.invoice_number }],
    status: 'issued',
    type: { coding: [{ code: inv.document_type.replace('_', '-') }] },
    ...(inv.facility_id ? { recipient: { identifier: { value: inv.facility_id } } } : {}),
    date: inv.invoice_date,
    issuer: { reference: '#vendor' },
    lineItem: inv.lines.map((l) => ({
      ...(l.service_date || l.modifiers
        ? {
            extension: [
              ...(l.service_date
                ? [{ url: 'urn:invoice-triage:fhir:service-date', valueDate: l.service_date }]
                : []),
              ...(l.modifiers ?? []).map((m) => ({
                url: 'urn:invoice-triage:fhir:hcpcs-modifier',
                valueCode: m,
              })),
            ],
          }
        : {}),
      sequence: l.line_number,
      chargeItemCodeableConcept: {
        ...(l.code ? { coding: [{ system: FHIR_SYSTEM[l.code.system], code: l.code.value }] } : {}),
        text: l.description,
      },
      priceComponent: [{ type: 'base', factor: l.quantity, amount: fhirMoney(l.amount_cents, inv.currency) }],
    })),
    totalGross: fhirMoney(inv.total_cents, inv.currency),
  };
}

/** A FHIR R4 Bundle (type `collection`) of Invoice resources. */
export function writeFhirBundle(invoices: readonly Invoice[]): string {
  return JSON.stringify(
    {
      resourceType: 'Bundle',
      type: 'collection',
      entry: invoices.map((i) => ({ resource: fhirInvoice(i) })),
    },
    null,
    1,
  );
}

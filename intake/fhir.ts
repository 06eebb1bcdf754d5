/**
 * FHIR R4 `Invoice` adapter: an `Invoice` resource, or a `Bundle` whose entries are `Invoice`
 * resources, to canonical invoices (tables in `intake/mapping/fhir.ts`).
 *
 * | canonical            | FHIR R4                                                                     |
 * | -------------------- | --------------------------------------------------------------------------- |
 * | invoice_id           | `id` (else `fhir-<first 32 hex of the sha256>[-<entry>]`)                    |
 * | invoice_number       | `identifier[]` (`use: official` first, else the first) `.value`              |
 * | invoice_date         | `date` (date part)                                                          |
 * | vendor               | `issuer` -> contained `Organization` (`#id`): `name`, `identifier[]` by system; or `issuer.identifier` + `issuer.display` |
 * | facility_id          | `recipient.identifier.value`                                                |
 * | currency, total      | `totalGross` (else `totalNet`) `.currency`, `.value`                         |
 * | tax_cents            | the lines' `tax` price components (when the total is `totalGross`)           |
 * | document_type        | `type.coding[].code`                                                        |
 * | lines                | `lineItem[]`: `sequence`, `chargeItemCodeableConcept` (`coding[0]`: code; `text`: description), `priceComponent[]` |
 *
 * Errors are 400 naming the JSON pointer (`/lineItem/2/priceComponent/0/amount/value`; in a
 * Bundle `/entry/3/resource/...`, each message starting `invoice 4 of 5 (/entry/3/resource): `). A resource of another type is refused at `/resourceType`,
 * a currency that is not accepted (XAU, DEM; core/currency.ts) at the `currency` of the first
 * amount in it, and a resource `id` repeated in a Bundle at the later entry's `/id`.
 */
import { ownValue } from '../core/own.js';
import { isTriageError } from '../core/errors.js';
import { currencyProblem } from '../core/currency.js';
import type { SourceFormat } from '../core/invoice.js';
import { currencyExponent, digitsBelowMinorUnit, parseAmount } from '../features/amount.js';
import {
  creditSigns,
  defined,
  documentError,
  invoiceLabel,
  invoicesError,
  isoDate,
  SourceMap,
  type ConvertedInvoice,
  type InvoiceFailure,
} from './document.js';
import {
  FHIR_CODE_SYSTEMS,
  FHIR_DOCUMENT_TYPES,
  FHIR_EXTENSIONS,
  FHIR_INVOICE_STATUS,
  FHIR_PRICE_COMPONENTS,
  FHIR_VENDOR_IDENTIFIERS,
} from './mapping/fhir.js';

const FORMAT: SourceFormat = 'fhir-r4';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Typed reads of a JSON value that name the pointer when the type is wrong. */
class Reader {
  /** Canonical pointer -> JSON pointer in the document it was read from. */
  readonly sources: SourceMap;
  /**
   * @param inexact the literal of every number of the document the JSON parser did not read as
   *   written, by JSON pointer (api/body/json.ts `InexactNumbers`).
   */
  constructor(
    private readonly base: string,
    private readonly inexact: ReadonlyMap<string, string> = new Map(),
  ) {
    this.sources = new SourceMap(base === '' ? '/' : base);
  }
  /** Records that canonical `pointer` was read at `path` (relative to the resource). */
  mark(pointer: string, path: string): void {
    this.sources.mark(pointer, this.base + path);
  }
  fail(path: string, message: string): never {
    throw documentError(FORMAT, this.base + path, message);
  }
  object(v: unknown, path: string): Json {
    if (!isObject(v)) this.fail(path, 'must be an object');
    return v as Json;
  }
  array(v: unknown, path: string): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(path, 'must be an array');
    return v as unknown[];
  }
  string(v: unknown, path: string): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(path, 'must be a string');
    return v as string;
  }
  number(v: unknown, path: string): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, 'must be a number');
    return v as number;
  }
  /** The invoice's currency (its total's), once read: the currency of every other amount. */
  documentCurrency: string | undefined;
  /**
   * FHIR `Money` -> { cents, currency } (the JSON decimal read without float arithmetic). An
   * amount without `currency` is in {@link documentCurrency}; one in another currency is refused
   * (it could not be summed with the others). A `value` the JSON parser did not read as written
   * (more significant digits than a double keeps) is checked as written, as UBL and X12 amounts
   * are, and refused: as written it has digits below the minor unit or is beyond ±10^13 minor
   * units (`parseAmount`), and the message says it could not be read exactly.
   */
  money(v: unknown, path: string): { cents: number; currency: string | undefined } | undefined {
    if (v === undefined) return undefined;
    const m = this.object(v, path);
    const value = this.number(m.value, `${path}/value`);
    if (value === undefined) this.fail(`${path}/value`, 'is required');
    const stated = this.string(m.currency, `${path}/currency`);
    // The minor unit of a code that is not an accepted currency (XAU, a withdrawn code) is
    // unknown, so no amount in it can be read; it is named here, before any amount is.
    const refused = stated === undefined ? undefined : currencyProblem(stated);
    if (refused !== undefined) this.fail(`${path}/currency`, refused);
    if (stated !== undefined && this.documentCurrency !== undefined && stated !== this.documentCurrency)
      this.fail(
        `${path}/currency`,
        `is ${stated}, not the invoice currency ${this.documentCurrency} (of its total)`,
      );
    const currency = stated ?? this.documentCurrency;
    const written = this.inexact.get(`${this.base}${path}/value`);
    const inexact =
      written === undefined
        ? ''
        : '; it has more significant digits than a JSON number read as a double keeps, so it would be read as another amount';
    const text = written ?? String(value);
    // Amounts are integer minor units of the currency (ISO 4217: JPY 0 decimals, USD 2, KWD 3):
    // a digit below the minor unit would be rounded away silently.
    if (/e-/i.test(text) || digitsBelowMinorUnit(text, '.', currency ?? null) > 0)
      this.fail(
        `${path}/value`,
        `has digits below the minor unit of ${currency ?? 'the currency'} (${currencyExponent(currency ?? null)} decimals, ISO 4217); amounts are whole minor units${inexact}`,
      );
    let cents: number;
    try {
      cents = parseAmount(text, { decimalSeparator: '.', ...(currency ? { currency } : {}) }).cents;
    } catch (e) {
      // Worded as UBL and X12 amounts are (intake/document.ts `documentNumbers`).
      if (!isTriageError(e)) throw e;
      return this.fail(`${path}/value`, `is not an amount (${e.message.replace(/^.*?: /, '')})${inexact}`);
    }
    // Not reached for a literal of at most 15 significant digits (doubles keep those exactly).
    if (written !== undefined) this.fail(`${path}/value`, `is not read exactly${inexact}`);
    return { cents, currency };
  }
}

/**
 * Canonical fields carried by the extensions of {@link FHIR_EXTENSIONS} on `v`.
 * @param at canonical pointer of the object the fields belong to (`''`, `/lines/2`).
 */
function extensions(r: Reader, v: Json, path: string, at: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  r.array(v.extension, `${path}/extension`).forEach((x, i) => {
    const p = `${path}/extension/${i}`;
    const e = r.object(x, p);
    const spec = ownValue(FHIR_EXTENSIONS, r.string(e.url, `${p}/url`) ?? '');
    if (!spec) return; // other extensions carry nothing the canonical invoice holds
    const value = e[spec.value];
    if (value === undefined) r.fail(`${p}/${spec.value}`, 'is required');
    r.mark(`${at}/${spec.field}`, `${p}/${spec.value}`);
    if (spec.value === 'valuePeriod') {
      const period = r.object(value, `${p}/valuePeriod`);
      out[spec.field] = {
        start: isoDate(r.string(period.start, `${p}/valuePeriod/start`) ?? ''),
        end: isoDate(r.string(period.end, `${p}/valuePeriod/end`) ?? ''),
      };
    } else if (spec.field === 'modifiers') {
      out.modifiers = [
        ...((out.modifiers as string[] | undefined) ?? []),
        r.string(value, `${p}/${spec.value}`),
      ];
    } else {
      const s = r.string(value, `${p}/${spec.value}`)!;
      out[spec.field] = spec.value === 'valueDate' ? isoDate(s) : s;
    }
  });
  return out;
}

/** The vendor from `issuer` (a contained Organization, or an identifier with a display). */
function vendorOf(r: Reader, inv: Json): Record<string, unknown> {
  const issuer = inv.issuer === undefined ? undefined : r.object(inv.issuer, '/issuer');
  if (!issuer) return {};
  r.mark('/vendor', '/issuer');
  const vendor: Record<string, unknown> = {};
  const identify = (ids: unknown[], path: string): void =>
    ids.forEach((x, i) => {
      const id = r.object(x, `${path}/${i}`);
      const value = r.string(id.value, `${path}/${i}/value`);
      const field =
        ownValue(FHIR_VENDOR_IDENTIFIERS, r.string(id.system, `${path}/${i}/system`) ?? '') ?? 'id';
      if (value !== undefined && vendor[field] === undefined) {
        vendor[field] = value;
        r.mark(`/vendor/${field}`, `${path}/${i}/value`);
      }
    });
  const ref = r.string(issuer.reference, '/issuer/reference');
  if (ref !== undefined) {
    if (!ref.startsWith('#')) r.fail('/issuer/reference', 'must reference a contained Organization (#id)');
    const contained = r.array(inv.contained, '/contained');
    const i = contained.findIndex((c) => isObject(c) && c.id === ref.slice(1));
    if (i < 0) r.fail('/issuer/reference', `names no contained resource ${ref}`);
    // Contained ids are unique in their resource: a second one would leave the vendor ambiguous.
    const twice = contained.findIndex((c, j) => j > i && isObject(c) && c.id === ref.slice(1));
    if (twice >= 0) r.fail(`/contained/${twice}/id`, `repeats the id of /contained/${i} (${ref} names both)`);
    const org = r.object(contained[i], `/contained/${i}`);
    if (org.resourceType !== 'Organization') r.fail(`/contained/${i}/resourceType`, 'must be Organization');
    vendor.name = r.string(org.name, `/contained/${i}/name`);
    r.mark('/vendor/name', `/contained/${i}/name`);
    identify(r.array(org.identifier, `/contained/${i}/identifier`), `/contained/${i}/identifier`);
  } else {
    vendor.name = r.string(issuer.display, '/issuer/display');
    r.mark('/vendor/name', '/issuer/display');
    if (issuer.identifier !== undefined) identify([issuer.identifier], '/issuer/identifier');
  }
  return defined(vendor);
}

/**
 * One canonical line of `lineItem[i]` of an invoice of `documentType`, and its tax in cents.
 * The line's amount is the `base` amount plus its `surcharge`s minus its `discount`s and
 * `deduction`s (net of tax), its quantity the base's `factor` (> 0 but on a credit memo), its
 * unit price that amount / factor rounded to the cent; its `tax` components are returned apart,
 * for the invoice's `tax_cents`.
 */
function lineOf(
  r: Reader,
  v: unknown,
  i: number,
  documentType: string,
): { line: Record<string, unknown>; tax: number } {
  const p = `/lineItem/${i}`;
  const at = `/lines/${i}`;
  r.mark(at, p);
  r.mark(`${at}/line_number`, `${p}/sequence`);
  r.mark(`${at}/description`, `${p}/chargeItemCodeableConcept/text`);
  const li = r.object(v, p);
  const concept =
    li.chargeItemCodeableConcept === undefined
      ? r.fail(`${p}/chargeItemCodeableConcept`, 'is required (chargeItemReference is not resolved)')
      : r.object(li.chargeItemCodeableConcept, `${p}/chargeItemCodeableConcept`);
  const codings = r.array(concept.coding, `${p}/chargeItemCodeableConcept/coding`);
  let code: { system: string; value: string } | undefined;
  let display: string | undefined;
  codings.forEach((x, j) => {
    const cp = `${p}/chargeItemCodeableConcept/coding/${j}`;
    const c = r.object(x, cp);
    const sys = r.string(c.system, `${cp}/system`) ?? '';
    const system = ownValue(FHIR_CODE_SYSTEMS, sys);
    if (!system) r.fail(`${cp}/system`, `is an unknown code system '${sys}'`);
    if (!code) {
      code = { system: system!, value: r.string(c.code, `${cp}/code`) ?? '' };
      r.mark(`${at}/code`, `${cp}/code`);
    }
    display ??= r.string(c.display, `${cp}/display`);
  });
  let base: number | undefined;
  let adjustments = 0;
  let tax = 0;
  let quantity: number | undefined;
  const adjusted: { role: 1 | -1; cents: number; tax: boolean }[] = [];
  r.array(li.priceComponent, `${p}/priceComponent`).forEach((x, j) => {
    const cp = `${p}/priceComponent/${j}`;
    const c = r.object(x, cp);
    const type = r.string(c.type, `${cp}/type`) ?? '';
    const role = ownValue(FHIR_PRICE_COMPONENTS, type);
    if (role === undefined) r.fail(`${cp}/type`, `is an unknown price component type '${type}'`);
    const money = r.money(c.amount, `${cp}/amount`);
    if (role === 0) return;
    if (!money) r.fail(`${cp}/amount`, 'is required');
    if (role === 'base') {
      if (quantity !== undefined) r.fail(cp, 'is a second base component');
      quantity = r.number(c.factor, `${cp}/factor`) ?? 1;
      r.mark(`${at}/quantity`, c.factor === undefined ? cp : `${cp}/factor`);
      r.mark(`${at}/unit_price_cents`, `${cp}/amount/value`);
      r.mark(`${at}/amount_cents`, `${cp}/amount/value`);
      if (quantity === 0) r.fail(`${cp}/factor`, 'must not be 0');
      // The quantity: negative only on a credit memo (the sign of its lines).
      if (quantity! < 0 && documentType !== 'credit_memo')
        r.fail(
          `${cp}/factor`,
          `is ${quantity}; must be greater than 0 (the quantity; only a credit memo's is negative)`,
        );
      base = money!.cents;
    } else adjusted.push({ role: role as 1 | -1, cents: Math.abs(money!.cents), tax: type === 'tax' });
  });
  if (quantity === undefined || base === undefined)
    r.fail(`${p}/priceComponent`, 'needs a base component (amount and factor = quantity)');
  // Surcharges, discounts and taxes count the way of the base amount (a credit line's tax is a credit).
  const sign = base! < 0 ? -1 : 1;
  for (const a of adjusted)
    if (a.tax) tax += sign * a.cents;
    else adjustments += sign * a.role * a.cents;
  const amount = base! + adjustments;
  const ext = extensions(r, li, p, at);
  const line = defined({
    line_number: r.number(li.sequence, `${p}/sequence`),
    description: r.string(concept.text, `${p}/chargeItemCodeableConcept/text`) ?? display,
    code,
    modifiers: ext.modifiers,
    quantity,
    unit_price_cents: Math.round(amount / quantity!),
    amount_cents: amount,
    service_date: ext.service_date,
  });
  return { line, tax };
}

/** One Invoice resource as a canonical invoice candidate. */
function invoiceOf(
  v: unknown,
  base: string,
  fallbackId: string,
  inexact?: ReadonlyMap<string, string>,
): ConvertedInvoice {
  const r = new Reader(base, inexact);
  const inv = r.object(v, '');
  if (inv.resourceType !== 'Invoice')
    r.fail(
      '/resourceType',
      `is ${JSON.stringify(inv.resourceType ?? null)}; an Invoice (or a Bundle of Invoices) is expected`,
    );
  const status = r.string(inv.status, '/status');
  if (status !== undefined) {
    const scored = ownValue(FHIR_INVOICE_STATUS, status);
    if (scored === undefined)
      r.fail(
        '/status',
        `is an unknown invoice status '${status}' (${Object.keys(FHIR_INVOICE_STATUS).join(', ')})`,
      );
    if (scored === false)
      r.fail('/status', `is ${status}: such an invoice is not a bill to pay and is not scored`);
  }
  const ids = r.array(inv.identifier, '/identifier').map((x, i) => r.object(x, `/identifier/${i}`));
  const officialAt = Math.max(
    0,
    ids.findIndex((x) => x.use === 'official'),
  );
  const official = ids[officialAt];
  const total = r.money(inv.totalGross, '/totalGross') ?? r.money(inv.totalNet, '/totalNet');
  const totalAt = inv.totalGross !== undefined ? '/totalGross' : '/totalNet';
  r.documentCurrency = total?.currency;
  r.mark('/invoice_id', '/id');
  r.mark('/invoice_number', `/identifier/${officialAt}/value`);
  r.mark('/invoice_date', '/date');
  r.mark('/currency', `${totalAt}/currency`);
  r.mark('/total_cents', `${totalAt}/value`);
  r.mark('/document_type', '/type/coding/0/code');
  r.mark('/facility_id', '/recipient/identifier/value');
  r.mark('/lines', '/lineItem');
  let documentType = 'invoice';
  if (inv.type !== undefined) {
    const codings = r.array(r.object(inv.type, '/type').coding, '/type/coding');
    codings.forEach((x, i) => {
      const code = r.string(r.object(x, `/type/coding/${i}`).code, `/type/coding/${i}/code`) ?? '';
      const t = ownValue(FHIR_DOCUMENT_TYPES, code);
      if (!t) r.fail(`/type/coding/${i}/code`, `is an unknown invoice type '${code}'`);
      if (i === 0) documentType = t!;
    });
  }
  const recipient = inv.recipient === undefined ? undefined : r.object(inv.recipient, '/recipient');
  const facility =
    recipient?.identifier === undefined
      ? undefined
      : r.string(
          r.object(recipient.identifier, '/recipient/identifier').value,
          '/recipient/identifier/value',
        );
  const ext = extensions(r, inv, '', '');
  const lines = r.array(inv.lineItem, '/lineItem').map((x, i) => lineOf(r, x, i, documentType));
  // Line taxes are in totalGross, not in totalNet: the tax of a total read from totalGross.
  const tax = lines.reduce((s, l) => s + l.tax, 0);
  const hasTax = inv.totalGross !== undefined && lines.some((l) => l.tax !== 0);
  if (hasTax) r.mark('/tax_cents', '/lineItem');
  const invoice = defined({
    invoice_id: r.string(inv.id, '/id') ?? fallbackId,
    vendor: vendorOf(r, inv),
    invoice_number: official ? r.string(official.value, `/identifier/${officialAt}/value`) : undefined,
    invoice_date: inv.date === undefined ? undefined : isoDate(r.string(inv.date, '/date')!),
    due_date: ext.due_date,
    currency: total?.currency,
    total_cents: total?.cents,
    tax_cents: hasTax ? tax : undefined,
    document_type: documentType,
    po_number: ext.po_number,
    facility_id: facility,
    service_period: ext.service_period,
    lines: lines.map((l) => l.line),
  });
  creditSigns(invoice);
  return {
    invoice,
    location: base === '' ? '/' : base,
    documentRef: base === '' ? 'FHIR Invoice' : base,
    sources: r.sources.map,
  };
}

/**
 * Converts a parsed FHIR R4 JSON document: an `Invoice`, or a `Bundle` of `Invoice` entries.
 * @param sha256 the document's sha256 (ids of resources without `id`).
 * @param maxInvoices most invoices accepted (400 beyond).
 * @param inexact the literals of the numbers the JSON parser did not read as written, by JSON
 *   pointer (`parseJsonBody`'s `inexact`): a `Money.value` among them is refused. Without it, a
 *   value already rounded by the parser cannot be told from one written so.
 * @throws TriageError 400 `TRIAGE_INPUT_INVALID` naming the JSON pointer.
 */
export function convertFhir(
  doc: unknown,
  sha256: string,
  maxInvoices = Number.MAX_SAFE_INTEGER,
  inexact?: ReadonlyMap<string, string>,
): ConvertedInvoice[] {
  const fallback = `fhir-${sha256.slice(0, 32)}`;
  if (isObject(doc) && doc.resourceType === 'Bundle') {
    const r = new Reader('');
    const entries = r.array(doc.entry, '/entry');
    if (entries.length > maxInvoices)
      r.fail('/entry', `has ${entries.length} entries; at most ${maxInvoices} are accepted`);
    // Every bad entry is named, not only the first (each entry stops at its own first fault),
    // as `invoice k of n (/entry/k-1/resource)` like the X12 and rule-level errors.
    // A resource id repeated inside the Bundle is named at the later entry's `id`.
    const failures: InvoiceFailure[] = [];
    const out: ConvertedInvoice[] = [];
    const firstWithId = new Map<string, number>();
    entries.forEach((e, i) => {
      const location = `/entry/${i}/resource`;
      try {
        const converted = invoiceOf(
          r.object(e, `/entry/${i}`).resource,
          location,
          `${fallback}-${i}`,
          inexact,
        );
        const id = converted.invoice.invoice_id as string;
        const first = firstWithId.get(id);
        if (first !== undefined)
          throw documentError(
            FORMAT,
            `${location}/id`,
            `repeats the id of ${invoiceLabel(first, entries.length, `/entry/${first}/resource`)}`,
          );
        firstWithId.set(id, i);
        out.push(converted);
      } catch (err) {
        if (!isTriageError(err, 'TRIAGE_INPUT_INVALID')) throw err;
        failures.push({ error: err, index: i, location });
      }
    });
    if (failures.length > 0) throw invoicesError(FORMAT, failures, entries.length);
    return out;
  }
  return [invoiceOf(doc, '', fallback, inexact)];
}

/**
 * The totals of a UBL 2.1 document beside its lines (intake/ubl.ts reads the document): the tax
 * total (one `cac:TaxTotal`, the invoice's `tax_cents`), PayableAmount against the other totals,
 * and the document-level allowances and charges (`cac:AllowanceCharge`), each an extra line so
 * that the total check sums it with the lines. Errors are 400 `TRIAGE_INPUT_INVALID` naming the
 * element by its path.
 */
import { ownValue } from '../core/own.js';
import { CREDIT_MEMO_ALLOWANCE, documentError, type SourceMap } from './document.js';
import { UBL_ALLOWANCE_CHARGE, UBL_CHARGE_INDICATOR, UBL_FORMAT } from './mapping/ubl.js';
import type { RawValue } from './ubl.js';

/** A document-level `cac:AllowanceCharge` as read (see {@link UBL_ALLOWANCE_CHARGE}). */
export interface AllowanceChargeRaw {
  /** `/Invoice/cac:AllowanceCharge[k]`. */
  where: string;
  indicator?: RawValue;
  amount?: RawValue;
  reason?: string;
  reasonCode?: string;
}

/**
 * Reads one element of a document-level allowance or charge into `charge`.
 * @param path the element's path below the root (`cac:AllowanceCharge/cbc:Amount`...).
 * @param currencyId the element's `currencyID` attribute, when present.
 * @returns the element's path for errors, `/Invoice/cac:AllowanceCharge[k]/cbc:Amount`.
 */
export function readAllowanceCharge(
  charge: AllowanceChargeRaw,
  path: string,
  value: string,
  currencyId: string | undefined,
): string {
  const child = path.slice(UBL_ALLOWANCE_CHARGE.element.length + 1);
  const at = `${charge.where}/${child}`;
  if (child === UBL_ALLOWANCE_CHARGE.indicator) charge.indicator = { text: value, kind: 'text', where: at };
  if (child === UBL_ALLOWANCE_CHARGE.amount)
    charge.amount = { text: value, kind: 'money', where: at, currencyId };
  if (child === UBL_ALLOWANCE_CHARGE.reason) charge.reason ??= value;
  if (child === UBL_ALLOWANCE_CHARGE.reasonCode) charge.reasonCode ??= value;
  return at;
}

/**
 * One tax total in the document currency (UBL allows a second only in the tax currency).
 * @param taxAmounts the path of each `cac:TaxTotal/cbc:TaxAmount`, in document order.
 * @throws TriageError 400 naming the second one.
 */
export function checkTaxTotals(taxAmounts: readonly string[]): void {
  if (taxAmounts.length > 1)
    throw documentError(
      UBL_FORMAT,
      taxAmounts[1]!,
      `is a second tax total (the first is ${taxAmounts[0]}); the tax is read from one cac:TaxTotal`,
    );
}

/**
 * UBL 2.1: PayableAmount = TaxInclusiveAmount - PrepaidAmount + PayableRoundingAmount (absent
 * parts 0), in cents, when both totals are present.
 * @throws TriageError 400 naming the PayableAmount element otherwise.
 */
export function checkPayable(
  header: Map<string, RawValue>,
  taxInclusive: unknown,
  payable: unknown,
  prepaid: unknown,
  rounding: unknown,
): void {
  if (typeof taxInclusive !== 'number' || typeof payable !== 'number') return;
  const expected =
    taxInclusive -
    (typeof prepaid === 'number' ? prepaid : 0) +
    (typeof rounding === 'number' ? rounding : 0);
  if (payable !== expected)
    throw documentError(
      UBL_FORMAT,
      header.get('payable_cents')!.where,
      `is ${payable} cents, not TaxInclusiveAmount - PrepaidAmount + PayableRoundingAmount = ${expected} cents`,
    );
}

/**
 * Appends each document-level allowance or charge as a line (see {@link UBL_ALLOWANCE_CHARGE}),
 * numbered after the highest line number, so that the total check sums it with the lines.
 * @throws TriageError 400 naming the element: a ChargeIndicator that is not an xsd:boolean, an
 *   Amount missing, negative or not an amount, or an allowance on a credit memo (its lines
 *   are never positive, so an allowance cannot be one).
 */
export function appendAllowanceCharges(
  invoice: Record<string, unknown>,
  charges: readonly AllowanceChargeRaw[],
  read: (v: RawValue | undefined) => unknown,
  documentType: string,
  src: SourceMap,
): void {
  if (charges.length === 0) return;
  const lines = invoice.lines as Record<string, unknown>[];
  let next = lines.reduce((m, l) => Math.max(m, typeof l.line_number === 'number' ? l.line_number : 0), 0);
  for (const c of charges) {
    const isCharge = ownValue(UBL_CHARGE_INDICATOR, c.indicator?.text ?? '');
    if (isCharge === undefined)
      throw documentError(
        UBL_FORMAT,
        c.indicator?.where ?? `${c.where}/${UBL_ALLOWANCE_CHARGE.indicator}`,
        c.indicator ? `is '${c.indicator.text}', not true (a charge) or false (an allowance)` : 'is required',
      );
    if (!c.amount)
      throw documentError(UBL_FORMAT, `${c.where}/${UBL_ALLOWANCE_CHARGE.amount}`, 'is required');
    const cents = read(c.amount) as number;
    if (cents < 0)
      throw documentError(
        UBL_FORMAT,
        c.amount.where,
        'must not be negative (ChargeIndicator says which way it counts)',
      );
    if (!isCharge && documentType === 'credit_memo')
      throw documentError(UBL_FORMAT, c.indicator!.where, CREDIT_MEMO_ALLOWANCE);
    const amount = isCharge ? cents : -cents;
    const i = lines.length;
    lines.push({
      line_number: ++next,
      description: c.reason || c.reasonCode || (isCharge ? 'Charge' : 'Allowance'),
      code: { system: 'OTHER', value: c.reasonCode || (isCharge ? 'CHARGE' : 'ALLOWANCE') },
      quantity: 1,
      unit_price_cents: amount,
      amount_cents: amount,
    });
    src.mark(`/lines/${i}`, c.where);
    for (const f of ['quantity', 'unit_price_cents', 'amount_cents'])
      src.mark(`/lines/${i}/${f}`, c.amount.where);
  }
}

/**
 * Item identifiers compared across ERP records and invoices after normalisation: upper case,
 * separators (space, `-`, `.`, `/`, `_`) removed, leading zeros dropped, so `010-00715-20`
 * equals `0100071520` and `ni-m-100` equals `NI M 100`. A variant suffix (a colour code) stays
 * part of the identifier, so `AB-100-BLU` and `AB-100-RED` differ.
 */
import type { ItemIdentifiers } from '../../core/erp.js';

/** The normalised form of one identifier ('' when nothing is left). */
export function normaliseIdentifier(id: string): string {
  return id
    .toUpperCase()
    .replace(/[\s\-./_]/g, '')
    .replace(/^0+/, '');
}

/** The identifiers of a record as a list of raw strings (any field order). */
export function identifierList(ids: ItemIdentifiers | undefined): string[] {
  if (!ids) return [];
  return [ids.buyer_item, ids.supplier_part, ids.manufacturer_part, ids.ndc, ids.gtin, ids.hcpcs].filter(
    (x): x is string => typeof x === 'string',
  );
}

/** True when the two lists share an identifier after normalisation. */
export function shareIdentifier(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a.map(normaliseIdentifier).filter((x) => x.length >= 3));
  return b.some((x) => set.has(normaliseIdentifier(x)));
}

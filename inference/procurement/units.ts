/**
 * Units of the PO match: a record's unit as a canonical code (matching/uom.ts `parseUom`) and
 * its size in base units (each), with the two conversions the checks use. Quantities of a
 * record are in its unit; one unit holds `pack` base units (`BX` of 100 = 100 `EA`).
 */
import type { ItemIdentifiers } from '../../core/erp.js';
import { parseUom } from '../../matching/uom.js';

/** A unit with its size in base units (each). */
export interface UnitOf {
  /** Canonical code (`BX`, `EA`...). */
  uom: string;
  /** Base units (each) in one `uom`, >= 1. */
  pack: number;
}

/** The canonical code of a unit as written (`box` -> `BX`, `each` -> `EA`). */
export const uomCode = (raw: string): string => parseUom(raw)?.code ?? raw.trim().toUpperCase();

/** A quantity in `unit` expressed in base units. */
export const toBase = (quantity: number, unit: UnitOf): number => quantity * unit.pack;

/** The price of one `to` unit from a price per `from` unit, cents (unrounded): `price x to.pack / from.pack`. */
export const convertPrice = (priceCents: number, from: UnitOf, to: UnitOf): number =>
  (priceCents * to.pack) / from.pack;

/** The identifiers of an ERP record as raw strings, for matching/identifiers.ts. */
export function identifierList(ids: ItemIdentifiers | undefined): string[] {
  if (!ids) return [];
  return [ids.buyer_item, ids.supplier_part, ids.manufacturer_part, ids.ndc, ids.gtin, ids.hcpcs].filter(
    (x): x is string => typeof x === 'string',
  );
}

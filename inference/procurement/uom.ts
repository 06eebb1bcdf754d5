/**
 * Units of measure and pack conversion for PO / receipt / contract / invoice lines. A record's
 * quantity is in its `uom`; one `uom` holds `pack` base units (`BX` of 100 = 100 `EA`). Codes
 * are compared after upper-casing and mapping the usual spellings to one code (`EACH` -> `EA`,
 * `BOX` -> `BX`, `CASE` -> `CS`, `PACK`/`PKG` -> `PK`).
 */

const ALIASES: Record<string, string> = {
  EACH: 'EA',
  EA: 'EA',
  UN: 'EA',
  UNIT: 'EA',
  BOX: 'BX',
  BX: 'BX',
  CASE: 'CS',
  CS: 'CS',
  PACK: 'PK',
  PKG: 'PK',
  PK: 'PK',
  PACKAGE: 'PK',
  CARTON: 'CT',
  CT: 'CT',
  DZ: 'DZ',
  DOZEN: 'DZ',
  BG: 'BG',
  BAG: 'BG',
  VL: 'VL',
  VIAL: 'VL',
};

/** The canonical code of a unit of measure (`box` -> `BX`); unknown codes upper-cased. */
export function normaliseUom(uom: string): string {
  const u = uom.trim().toUpperCase();
  return ALIASES[u] ?? u;
}

/** A unit with its size in base units (each). */
export interface UnitOf {
  uom: string;
  /** Base units (each) in one `uom`, >= 1. */
  pack: number;
}

/** A quantity in `unit` expressed in base units. */
export const toBase = (quantity: number, unit: UnitOf): number => quantity * unit.pack;

/**
 * The price of one `to` unit from a price per `from` unit, cents (unrounded):
 * `price x to.pack / from.pack`.
 */
export const convertPrice = (priceCents: number, from: UnitOf, to: UnitOf): number =>
  (priceCents * to.pack) / from.pack;

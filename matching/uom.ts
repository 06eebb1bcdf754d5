/**
 * Units of measure on supply lines and their conversion to base units (each, `EA`).
 *
 * The units, their codes and spellings and their sizes are the table of core/units.ts (ANSI X12
 * 355 codes, UN/ECE Rec 20). A unit with a fixed count (`DZ` = 12) converts by itself; a pack
 * (`BX`, `CS`, ...) converts only with a pack quantity, taken from the record's `packQty`, from
 * the unit text (`BX/100`, `100/BX`, `CS 10X10`) or from the description (`25/bx`, `box of 100`,
 * via `features/text.ts`); vials, ampoules and syringes hold one when no count is stated; a
 * measure (`ML`, `KG`...) is one of itself, compared with the same measure only.
 */
import { parseQuantities } from '../features/text.js';
import { sizeOfCode, unitCodeOf, type UnitSize } from '../core/units.js';

/** A unit of measure read from its raw text. */
export interface UnitOfMeasure {
  /** Canonical code of the unit table (core/units.ts), or the upper-cased text when unknown. */
  code: string;
  /** True when the code is in the table. */
  known: boolean;
  /** Base units per fixed-count unit (EA 1, DZ 12, ...); null for containers. */
  fixedCount: number | null;
  /** Pack quantity written in the unit text itself (`BX/100` -> 100); null when none. */
  statedPack: number | null;
}

/**
 * Reads a unit of measure: `"EA"`, `"bx/100"`, `"100/BX"`, `"CS 10X10"`, `"box of 50"`.
 * @returns null for empty text.
 */
export function parseUom(raw: string | null | undefined): UnitOfMeasure | null {
  const t = (raw ?? '').normalize('NFKC').trim().toUpperCase();
  if (t === '') return null;
  const word = /[A-Z]+/.exec(t)?.[0] ?? '';
  const canonical = unitCodeOf(word);
  const code = canonical ?? (word || t);
  const known = canonical !== undefined;
  let statedPack: number | null = null;
  const product = /(\d+)\s*X\s*(\d+)/.exec(t);
  const single = /(\d+(?:\.\d+)?)/.exec(t);
  if (product) statedPack = Number(product[1]) * Number(product[2]);
  else if (single) statedPack = Number(single[1]);
  if (statedPack !== null && !(statedPack > 0)) statedPack = null;
  const size: UnitSize | undefined = known ? sizeOfCode(code) : undefined;
  return { code, known, fixedCount: size?.kind === 'count' ? size.each : null, statedPack };
}

/**
 * Base units (each) per one `uom` of a record: the fixed count of the unit, else the record's
 * pack quantity, else the count stated in the unit text, else a pack count in the description
 * for that container, else 1 for vials, ampoules and syringes. Null when it cannot be told
 * (a box with no count anywhere).
 */
export function baseUnitsPer(r: {
  uom?: string | null;
  packQty?: number | null;
  description?: string;
}): number | null {
  const u = parseUom(r.uom);
  if (u === null) return r.packQty && r.packQty > 0 ? r.packQty : 1;
  if (u.fixedCount !== null) return u.fixedCount;
  if (r.packQty && r.packQty > 0) return r.packQty;
  if (u.statedPack !== null) return u.statedPack;
  const size = u.known ? sizeOfCode(u.code) : undefined;
  const container = size?.kind === 'pack' ? size.word : null;
  if (container && r.description) {
    const pack = parseQuantities(r.description).packs.find((p) => p.per === container);
    if (pack) return pack.count;
  }
  return (size?.kind === 'pack' && size.single) || size?.kind === 'measure' ? 1 : null;
}

/** Price per base unit in cents (fractional), or null when the price or the conversion is unknown. */
export function basePriceCents(r: {
  unitPriceCents?: number | null;
  uom?: string | null;
  packQty?: number | null;
  description?: string;
}): number | null {
  if (r.unitPriceCents === null || r.unitPriceCents === undefined || !(r.unitPriceCents > 0)) return null;
  const per = baseUnitsPer(r);
  return per === null ? null : r.unitPriceCents / per;
}

/** Quantity in base units, or null when the quantity or the conversion is unknown. */
export function baseQuantity(r: {
  quantity?: number | null;
  uom?: string | null;
  packQty?: number | null;
  description?: string;
}): number | null {
  if (r.quantity === null || r.quantity === undefined || !(r.quantity > 0)) return null;
  const per = baseUnitsPer(r);
  return per === null ? null : r.quantity * per;
}

/**
 * Units of measure on supply lines and their conversion to base units (each, `EA`).
 *
 * Unit codes follow ANSI ASC X12 element 355 (the codes on 850 purchase orders and 810
 * invoices: `EA`, `BX`, `CS`, `PK`, ...) with the spellings seen on paper invoices. A unit with
 * a fixed count (`DZ` = 12) converts by itself; a container (`BX`, `CS`, ...) converts only with
 * a pack quantity, taken from the record's `packQty`, from the unit text (`BX/100`, `100/BX`,
 * `CS 10X10`) or from the description (`25/bx`, `box of 100`, via `features/text.ts`).
 *
 * | code | meaning | base units |
 * | ---- | ------- | ---------- |
 * | EA | each (also `EACH`, `UN`, `UNIT`, `PC`, `PCS`, `CT`) | 1 |
 * | PR | pair | 2 |
 * | DZ | dozen | 12 |
 * | GR | gross | 144 |
 * | HD | hundred | 100 |
 * | TH | thousand | 1000 |
 * | BX | box | pack quantity |
 * | CS | case | pack quantity |
 * | PK | pack / package | pack quantity |
 * | CT | carton (`CTN`) | pack quantity |
 * | BG | bag | pack quantity |
 * | BT | bottle (`BTL`) | pack quantity |
 * | KT | kit | pack quantity |
 * | RL | roll | pack quantity |
 * | TB | tube | pack quantity |
 * | VL | vial | pack quantity (1 when unstated) |
 * | AM | ampoule | pack quantity (1 when unstated) |
 * | SY | syringe | pack quantity (1 when unstated) |
 * | TR | tray | pack quantity |
 * | SL | sleeve | pack quantity |
 * | ML, LT, ME, GM, KG, LB, OZ, GA, CM, MR, FT, IN, YD | measures (millilitre ... yard) | 1 of itself (compared with the same measure only) |
 *
 * `CT` is "count" (each) in hospital item masters but "carton" in X12; a bare `CT` is read as
 * each, `CTN` as carton. The codes and spellings are declared in core/units.ts (also read by the
 * invoice validation).
 */
import { parseQuantities } from '../features/text.js';
import { unitCodeOf } from '../core/units.js';

/** A unit of measure read from its raw text. */
export interface UnitOfMeasure {
  /** Canonical code from the table above, or the upper-cased text when unknown. */
  code: string;
  /** True when the code is in the table. */
  known: boolean;
  /** Base units per fixed-count unit (EA 1, DZ 12, ...); null for containers. */
  fixedCount: number | null;
  /** Pack quantity written in the unit text itself (`BX/100` -> 100); null when none. */
  statedPack: number | null;
}

const FIXED: Readonly<Record<string, number>> = { EA: 1, PR: 2, DZ: 12, GR: 144, HD: 100, TH: 1000 };
/** Containers that hold one base unit unless a pack quantity says otherwise. */
const SINGLE_CONTAINERS = new Set(['VL', 'AM', 'SY']);
/** Measures (core/units.ts): one of themselves; a line and a PO line in the same measure compare directly. */
const MEASURES = new Set(['ML', 'LT', 'ME', 'GM', 'KG', 'LB', 'OZ', 'GA', 'CM', 'MR', 'FT', 'IN', 'YD']);

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
  return { code, known, fixedCount: FIXED[code] ?? null, statedPack };
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
  const container = CONTAINER_OF[u.code];
  if (container && r.description) {
    const pack = parseQuantities(r.description).packs.find((p) => p.per === container);
    if (pack) return pack.count;
  }
  return SINGLE_CONTAINERS.has(u.code) || MEASURES.has(u.code) ? 1 : null;
}

/** The `features/text.ts` pack container of each container code (for counts in descriptions). */
const CONTAINER_OF: Readonly<Record<string, string>> = {
  BX: 'box',
  CS: 'case',
  PK: 'pack',
  CT: 'carton',
  BG: 'bag',
  BT: 'bottle',
  KT: 'kit',
  RL: 'roll',
};

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

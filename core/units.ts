/**
 * The unit-of-measure table: every unit of measure the service accepts on supply lines (invoice
 * lines, PO lines, goods receipts, contract items), its canonical code, its accepted spellings,
 * its UN/ECE Recommendation 20 codes and how it converts to base units (each, `EA`).
 *
 * Sources: the canonical codes are ANSI ASC X12 element 355 (Unit or Basis for Measurement Code,
 * the units of 850 purchase orders, 856 ship notices and 810 invoices); the `rec20` codes are
 * UN/ECE Recommendation No. 20 (Codes for Units of Measure Used in International Trade, with the
 * Recommendation No. 21 package codes written `X` + code, as UBL `unitCode` carries them); the
 * other spellings are those seen on paper invoices and in hospital item masters. Fixed counts
 * are the definitions of those standards (a dozen is 12, a gross 144, a hundred 100...).
 *
 * | code | meaning | base units (each) in one | Rec 20 |
 * | ---- | ------- | ------------------------ | ------ |
 * | EA | each (also `EACH`, `UN`, `UNIT`, `PC`, `PIECE`, `CT`, `COUNT`) | 1 | H87, EA |
 * | PR | pair | 2 | PR |
 * | DZ | dozen | 12 | DZN |
 * | GR | gross | 144 | GRO |
 * | HD | hundred | 100 | CEN |
 * | TH | thousand | 1000 | MIL |
 * | BX | box | the record's `pack_qty` | XBX |
 * | CS | case | `pack_qty` | XCS |
 * | PK | pack / package | `pack_qty` | XPK, XPA |
 * | CT | carton (written `CTN`) | `pack_qty` | XCT |
 * | BG | bag | `pack_qty` | XBG |
 * | BT | bottle | `pack_qty` | XBO |
 * | KT | kit | `pack_qty` | XKI |
 * | RL | roll | `pack_qty` | XRO |
 * | TB | tube | `pack_qty` | XTU |
 * | VL | vial | `pack_qty`, 1 when unstated | XVI |
 * | AM | ampoule | `pack_qty`, 1 when unstated | XAM |
 * | SY | syringe | `pack_qty`, 1 when unstated | XSY |
 * | TR | tray | `pack_qty` | XPU |
 * | SL | sleeve | `pack_qty` | - |
 * | ML, LT, ME, GM, KG, LB, OZ, GA, CM, MR, FT, IN, YD | measures (millilitre ... yard) | none: compared with the same measure only | MLT, LTR, MGM, GRM, KGM, LBR, ONZ, GLL, CMT, MTR, FOT, INH, YRD |
 *
 * Fixed-count units (EA ... TH) convert by themselves: a `pack_qty` other than their count
 * contradicts them. Packs (BX ... SL) hold a varying number of each, stated by `pack_qty` (or, on
 * an invoice, in the unit text or description: matching/uom.ts). Quantities of counts and packs
 * are whole numbers of the unit; measures may be fractional. `CT` is "count" (each) in hospital
 * item masters but "carton" in X12: a bare `CT` is read as each, `CTN` as carton.
 *
 * Read by the invoice validation (core/validate.ts) and the UBL mapping (intake/mapping/ubl.ts),
 * the ERP load checks (store/erp-checks.ts), the record pack size of core/erp.ts `packOf` (receipt
 * conversion and three-way match) and the matcher's conversions (matching/uom.ts).
 */

import { ownValue } from './own.js';

/** How one unit converts to base units (each). */
export type UnitSize =
  /** A fixed number of each (`DZ` = 12). */
  | { kind: 'count'; each: number }
  /**
   * A pack of a varying number of each, stated by `pack_qty`; `single`: one each when unstated
   * (vials, ampoules, syringes); `word`: the container word of features/text.ts pack counts in
   * descriptions (`25/bx`, `box of 100`), when it has one.
   */
  | { kind: 'pack'; single: boolean; word: string | null }
  /** A measure (mass, volume, length): no count of each. */
  | { kind: 'measure' };

/** One unit of the table. */
export interface UnitDefinition {
  name: string;
  size: UnitSize;
  /** Accepted spellings, upper case; the first is the one written for a Rec 20 code. */
  spellings: readonly string[];
  /** UN/ECE Rec 20 (and Rec 21 `X` + code) codes of the unit. */
  rec20: readonly string[];
}

const count = (each: number): UnitSize => ({ kind: 'count', each });
const pack = (word: string | null, single = false): UnitSize => ({ kind: 'pack', single, word });
const MEASURE: UnitSize = { kind: 'measure' };

/** The unit table, by canonical code (see the module doc). */
export const UNITS: Readonly<Record<string, UnitDefinition>> = {
  EA: {
    name: 'each',
    size: count(1),
    spellings: ['EA', 'EACH', 'UN', 'UNIT', 'UNITS', 'PC', 'PCS', 'PIECE', 'CT', 'COUNT'],
    rec20: ['H87', 'EA'],
  },
  PR: { name: 'pair', size: count(2), spellings: ['PR', 'PAIR'], rec20: ['PR'] },
  DZ: { name: 'dozen', size: count(12), spellings: ['DZ', 'DOZ', 'DOZEN'], rec20: ['DZN'] },
  GR: { name: 'gross', size: count(144), spellings: ['GR', 'GROSS'], rec20: ['GRO'] },
  HD: { name: 'hundred', size: count(100), spellings: ['HD', 'HUNDRED'], rec20: ['CEN'] },
  TH: { name: 'thousand', size: count(1000), spellings: ['TH', 'THOUSAND'], rec20: ['MIL'] },
  BX: { name: 'box', size: pack('box'), spellings: ['BX', 'BOX'], rec20: ['XBX'] },
  CS: { name: 'case', size: pack('case'), spellings: ['CS', 'CASE'], rec20: ['XCS'] },
  PK: {
    name: 'pack',
    size: pack('pack'),
    spellings: ['PK', 'PKG', 'PACK', 'PACKAGE'],
    rec20: ['XPK', 'XPA'],
  },
  CT: { name: 'carton', size: pack('carton'), spellings: ['CTN', 'CARTON'], rec20: ['XCT'] },
  BG: { name: 'bag', size: pack('bag'), spellings: ['BG', 'BAG'], rec20: ['XBG'] },
  BT: { name: 'bottle', size: pack('bottle'), spellings: ['BT', 'BTL', 'BOTTLE'], rec20: ['XBO'] },
  KT: { name: 'kit', size: pack('kit'), spellings: ['KT', 'KIT'], rec20: ['XKI'] },
  RL: { name: 'roll', size: pack('roll'), spellings: ['RL', 'ROLL'], rec20: ['XRO'] },
  TB: { name: 'tube', size: pack(null), spellings: ['TB', 'TUBE'], rec20: ['XTU'] },
  VL: { name: 'vial', size: pack(null, true), spellings: ['VL', 'VIAL'], rec20: ['XVI'] },
  AM: {
    name: 'ampoule',
    size: pack(null, true),
    spellings: ['AM', 'AMP', 'AMPULE', 'AMPOULE'],
    rec20: ['XAM'],
  },
  SY: { name: 'syringe', size: pack(null, true), spellings: ['SY', 'SYR', 'SYRINGE'], rec20: ['XSY'] },
  TR: { name: 'tray', size: pack(null), spellings: ['TR', 'TRAY'], rec20: ['XPU'] },
  SL: { name: 'sleeve', size: pack(null), spellings: ['SL', 'SLEEVE'], rec20: [] },
  ML: { name: 'millilitre', size: MEASURE, spellings: ['ML', 'MILLILITER', 'MILLILITRE'], rec20: ['MLT'] },
  LT: { name: 'litre', size: MEASURE, spellings: ['LT', 'LITER', 'LITRE'], rec20: ['LTR'] },
  ME: { name: 'milligram', size: MEASURE, spellings: ['ME', 'MG', 'MILLIGRAM'], rec20: ['MGM'] },
  GM: { name: 'gram', size: MEASURE, spellings: ['GM', 'GRAM'], rec20: ['GRM'] },
  KG: { name: 'kilogram', size: MEASURE, spellings: ['KG', 'KILOGRAM'], rec20: ['KGM'] },
  LB: { name: 'pound', size: MEASURE, spellings: ['LB', 'LBS', 'POUND'], rec20: ['LBR'] },
  OZ: { name: 'ounce', size: MEASURE, spellings: ['OZ', 'OUNCE'], rec20: ['ONZ'] },
  GA: { name: 'gallon', size: MEASURE, spellings: ['GA', 'GAL', 'GALLON'], rec20: ['GLL'] },
  CM: { name: 'centimetre', size: MEASURE, spellings: ['CM', 'CENTIMETER'], rec20: ['CMT'] },
  MR: { name: 'metre', size: MEASURE, spellings: ['MR', 'METER', 'METRE'], rec20: ['MTR'] },
  FT: { name: 'foot', size: MEASURE, spellings: ['FT', 'FOOT', 'FEET'], rec20: ['FOT'] },
  IN: { name: 'inch', size: MEASURE, spellings: ['IN', 'INCH'], rec20: ['INH'] },
  YD: { name: 'yard', size: MEASURE, spellings: ['YD', 'YARD'], rec20: ['YRD'] },
};

/** Accepted spelling (upper case) -> canonical code (`BOX` -> `BX`, `EACH` -> `EA`), from {@link UNITS}. */
export const UNIT_CODES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(UNITS).flatMap(([code, u]) => u.spellings.map((s) => [s, code])),
);

/**
 * UN/ECE Rec 20 code -> the spelling of {@link UNITS} it stands for (`DZN` -> `DZ`, `XCT` ->
 * `CTN`), from the table's `rec20` codes.
 */
export const REC20_UNITS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(UNITS).flatMap((u) => u.rec20.map((c) => [c, u.spellings[0]!])),
);

/**
 * The canonical code of a unit word (`"box"` -> `"BX"`, case and surrounding blanks ignored,
 * Unicode compatibility forms folded), or undefined when the word is not in {@link UNIT_CODES}.
 */
export function unitCodeOf(word: string): string | undefined {
  const w = word.normalize('NFKC').trim().toUpperCase();
  return ownValue(UNIT_CODES, w);
}

/**
 * The table's size of a canonical code (`"DZ"` -> 12 each, `"CT"` -> carton), or undefined when
 * the table has no such code. Codes, not spellings: the spelling `CT` is each (see the module doc).
 */
export const sizeOfCode = (code: string): UnitSize | undefined => ownValue(UNITS, code)?.size;

/** The table's size of a unit as written (`"dozen"` -> 12 each, `"CT"` -> each), or undefined when not in the table. */
export function unitSizeOf(word: string): UnitSize | undefined {
  const code = unitCodeOf(word);
  return code === undefined ? undefined : sizeOfCode(code);
}

/**
 * Base units (each) in one of a fixed-count unit as written (`DZ` -> 12, `each` -> 1); null for
 * packs, measures and units outside the table.
 */
export function fixedCountOf(word: string): number | null {
  const size = unitSizeOf(word);
  return size?.kind === 'count' ? size.each : null;
}

/**
 * Whether quantities in the unit are counts of whole units: a fixed-count unit or a pack (2 DZ,
 * 3 BX), not a measure (2.5 ML); false for a unit outside the table.
 */
export function isCountUnit(word: string): boolean {
  const kind = unitSizeOf(word)?.kind;
  return kind === 'count' || kind === 'pack';
}

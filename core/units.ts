/**
 * The unit-of-measure table: every accepted code and spelling (upper case) and its canonical
 * code. Codes follow ANSI ASC X12 element 355 (the units of 850 purchase orders and 810
 * invoices), with the spellings seen on paper invoices; matching/uom.ts documents what each code
 * means and converts quantities between them. Invoice lines (core/validate.ts) and ERP records
 * (store/erp-checks.ts) accept only units of this table.
 */

import { ownValue } from './own.js';

/** Accepted spelling (upper case) -> canonical code (`BOX` -> `BX`, `EACH` -> `EA`). */
export const UNIT_CODES: Readonly<Record<string, string>> = {
  EA: 'EA',
  EACH: 'EA',
  UN: 'EA',
  UNIT: 'EA',
  UNITS: 'EA',
  PC: 'EA',
  PCS: 'EA',
  PIECE: 'EA',
  CT: 'EA',
  COUNT: 'EA',
  PR: 'PR',
  PAIR: 'PR',
  DZ: 'DZ',
  DOZ: 'DZ',
  DOZEN: 'DZ',
  GR: 'GR',
  GROSS: 'GR',
  HD: 'HD',
  HUNDRED: 'HD',
  TH: 'TH',
  THOUSAND: 'TH',
  BX: 'BX',
  BOX: 'BX',
  CS: 'CS',
  CASE: 'CS',
  PK: 'PK',
  PKG: 'PK',
  PACK: 'PK',
  PACKAGE: 'PK',
  CTN: 'CT',
  CARTON: 'CT',
  BG: 'BG',
  BAG: 'BG',
  BT: 'BT',
  BTL: 'BT',
  BOTTLE: 'BT',
  KT: 'KT',
  KIT: 'KT',
  RL: 'RL',
  ROLL: 'RL',
  TB: 'TB',
  TUBE: 'TB',
  VL: 'VL',
  VIAL: 'VL',
  AM: 'AM',
  AMP: 'AM',
  AMPULE: 'AM',
  AMPOULE: 'AM',
  SY: 'SY',
  SYR: 'SY',
  SYRINGE: 'SY',
  TR: 'TR',
  TRAY: 'TR',
  SL: 'SL',
  SLEEVE: 'SL',
  // Measures (X12 355 codes): accepted and compared as they are; no count conversion.
  ML: 'ML',
  MILLILITER: 'ML',
  MILLILITRE: 'ML',
  LT: 'LT',
  LITER: 'LT',
  LITRE: 'LT',
  ME: 'ME',
  MG: 'ME',
  MILLIGRAM: 'ME',
  GM: 'GM',
  GRAM: 'GM',
  KG: 'KG',
  KILOGRAM: 'KG',
  LB: 'LB',
  LBS: 'LB',
  POUND: 'LB',
  OZ: 'OZ',
  OUNCE: 'OZ',
  GA: 'GA',
  GAL: 'GA',
  GALLON: 'GA',
  CM: 'CM',
  CENTIMETER: 'CM',
  MR: 'MR',
  METER: 'MR',
  METRE: 'MR',
  FT: 'FT',
  FOOT: 'FT',
  FEET: 'FT',
  IN: 'IN',
  INCH: 'IN',
  YD: 'YD',
  YARD: 'YD',
};

/**
 * The canonical code of a unit word (`"box"` -> `"BX"`, case and surrounding blanks ignored,
 * Unicode compatibility forms folded), or undefined when the word is not in {@link UNIT_CODES}.
 */
export function unitCodeOf(word: string): string | undefined {
  const w = word.normalize('NFKC').trim().toUpperCase();
  return ownValue(UNIT_CODES, w);
}

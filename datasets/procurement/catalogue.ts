/**
 * Synthetic medical-surgical supply items for the procurement benchmark: families of items
 * (gloves, catheters, gauze...) with variants (size, colour, gauge) that differ only by a word
 * and a part-number suffix, units of measure with their pack sizes, and prices per base unit.
 * Hand-written templates (no external data); seeded draws only.
 */
import { Rng } from '../synth.js';

/** One purchasable item of a vendor's catalogue. Prices in cents per `uom`. */
export interface CatalogueItem {
  /** Stable id within the benchmark (same id = same item). */
  itemId: string;
  family: string;
  /** The variant word(s) of the description (`medium`, `14 Fr`). */
  variant: string;
  description: string;
  supplierPart: string;
  manufacturerPart: string;
  gtin: string | null;
  uom: string;
  pack: number;
  /** Price of one `uom`, cents; divisible by `pack` so that each-prices are whole cents. */
  priceCents: number;
}

interface Family {
  name: string;
  text: (variant: string) => string;
  variants: string[];
  units: [string, number][];
  /** Cents per base unit, range. */
  each: [number, number];
}

const FAMILIES: Family[] = [
  {
    name: 'glove',
    text: (v) => `Exam gloves nitrile powder free ${v}`,
    variants: ['small', 'medium', 'large', 'x-large'],
    units: [
      ['BX', 100],
      ['BX', 200],
      ['CS', 1000],
    ],
    each: [6, 14],
  },
  {
    name: 'mask',
    text: (v) => `Surgical face mask ear loop level 3 ${v}`,
    variants: ['blue', 'green', 'pink'],
    units: [
      ['BX', 50],
      ['CS', 300],
    ],
    each: [9, 30],
  },
  {
    name: 'foley',
    text: (v) => `Foley catheter silicone 5 ml balloon ${v}`,
    variants: ['14 Fr', '16 Fr', '18 Fr'],
    units: [
      ['EA', 1],
      ['BX', 10],
    ],
    each: [450, 1200],
  },
  {
    name: 'ivkit',
    text: (v) => `IV start kit with chlorhexidine prep ${v}`,
    variants: ['standard', 'with tegaderm'],
    units: [
      ['EA', 1],
      ['CS', 50],
    ],
    each: [180, 420],
  },
  {
    name: 'gauze',
    text: (v) => `Gauze sponge ${v} 12 ply sterile`,
    variants: ['2x2', '4x4'],
    units: [
      ['PK', 10],
      ['CS', 1200],
    ],
    each: [3, 12],
  },
  {
    name: 'syringe',
    text: (v) => `Syringe luer lock ${v}`,
    variants: ['3 ml', '10 ml', '20 ml'],
    units: [
      ['BX', 100],
      ['CS', 800],
    ],
    each: [9, 35],
  },
  {
    name: 'needle',
    text: (v) => `Hypodermic needle safety ${v}`,
    variants: ['25G 1 inch', '22G 1.5 inch', '18G 1.5 inch'],
    units: [['BX', 100]],
    each: [8, 28],
  },
  {
    name: 'underpad',
    text: (v) => `Underpad disposable ${v} moderate absorbency`,
    variants: ['23x36', '30x30'],
    units: [
      ['CS', 150],
      ['BG', 10],
    ],
    each: [20, 60],
  },
  {
    name: 'prep',
    text: (v) => `Alcohol prep pad ${v}`,
    variants: ['medium', 'large'],
    units: [
      ['BX', 200],
      ['CS', 4000],
    ],
    each: [1, 4],
  },
  {
    name: 'film',
    text: (v) => `Transparent film dressing ${v}`,
    variants: ['2.375x2.75', '4x4.75', '6x8'],
    units: [
      ['BX', 50],
      ['EA', 1],
    ],
    each: [60, 240],
  },
  {
    name: 'suture',
    text: (v) => `Suture nylon monofilament ${v} 18 inch`,
    variants: ['3-0 PS-1', '4-0 PS-2', '5-0 P-3'],
    units: [['BX', 12]],
    each: [280, 690],
  },
  {
    name: 'container',
    text: (v) => `Specimen container sterile ${v}`,
    variants: ['4 oz', '8 oz'],
    units: [['CS', 100]],
    each: [25, 70],
  },
  {
    name: 'cuff',
    text: (v) => `Blood pressure cuff reusable ${v}`,
    variants: ['adult', 'large adult', 'child'],
    units: [['EA', 1]],
    each: [900, 2600],
  },
  {
    name: 'cannula',
    text: (v) => `Oxygen nasal cannula ${v} 7 ft tubing`,
    variants: ['adult', 'pediatric'],
    units: [
      ['CS', 50],
      ['EA', 1],
    ],
    each: [55, 140],
  },
  {
    name: 'cleanser',
    text: (v) => `Wound cleanser spray ${v}`,
    variants: ['8 oz', '12 oz'],
    units: [
      ['CS', 12],
      ['EA', 1],
    ],
    each: [380, 900],
  },
  {
    name: 'electrode',
    text: (v) => `ECG electrode foam ${v}`,
    variants: ['adult', 'radiolucent'],
    units: [
      ['PK', 30],
      ['CS', 600],
    ],
    each: [6, 20],
  },
  {
    name: 'ivcath',
    text: (v) => `IV catheter safety ${v}`,
    variants: ['20G 1 inch', '22G 1 inch', '18G 1.16 inch'],
    units: [['BX', 50]],
    each: [130, 330],
  },
  {
    name: 'sharps',
    text: (v) => `Sharps container ${v} red`,
    variants: ['2 gallon', '5 quart'],
    units: [
      ['EA', 1],
      ['CS', 20],
    ],
    each: [320, 980],
  },
  {
    name: 'bandage',
    text: (v) => `Elastic bandage with velcro closure ${v}`,
    variants: ['3 inch', '4 inch', '6 inch'],
    units: [['BX', 10]],
    each: [70, 210],
  },
  {
    name: 'trach',
    text: (v) => `Tracheostomy care kit ${v}`,
    variants: ['with gloves', 'without gloves'],
    units: [
      ['EA', 1],
      ['CS', 20],
    ],
    each: [250, 650],
  },
];

/** Variant suffix of a part number: two letters of the variant and its index in the family (`ME1`). */
const SUFFIX = (fam: Family, v: string): string =>
  v
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '')
    .slice(0, 2) + String(fam.variants.indexOf(v));

/**
 * A vendor's catalogue: `n` items drawn from the families, several variants of a family side by
 * side (they differ by a word and a part-number suffix).
 */
export function drawCatalogue(vendorIdx: number, n: number, rng: Rng): CatalogueItem[] {
  const out: CatalogueItem[] = [];
  const families = rng.shuffle(FAMILIES);
  const prefix =
    String.fromCharCode(65 + (vendorIdx % 26)) + String.fromCharCode(65 + ((vendorIdx * 7) % 26));
  for (let f = 0; out.length < n && f < families.length; f++) {
    const fam = families[f]!;
    const [uom, pack] = rng.pick(fam.units);
    const stem = `${rng.digits(3)}-${rng.digits(5)}`;
    const mfr = `${fam.name.slice(0, 2).toUpperCase()}${rng.digits(4)}`;
    const variants = rng.shuffle(fam.variants).slice(0, rng.int(1, Math.min(3, fam.variants.length)));
    for (const v of variants) {
      const each = rng.int(fam.each[0], fam.each[1]);
      out.push({
        itemId: `${prefix}-${fam.name}-${SUFFIX(fam, v)}-${vendorIdx}`,
        family: fam.name,
        variant: v,
        description: fam.text(v),
        supplierPart: `0${stem}-${SUFFIX(fam, v)}`,
        manufacturerPart: `${mfr}${SUFFIX(fam, v)}`,
        gtin: rng.chance(0.4) ? `00${rng.digits(12)}` : null,
        uom,
        pack,
        priceCents: each * pack,
      });
      if (out.length >= n) break;
    }
  }
  return out;
}

/**
 * The same product sold in a larger pack under its own part number (a different item to bill
 * against): ten times the pack (a case of ten boxes; ten each for an item sold by the each),
 * unit `CS`, the part numbers with a pack suffix (`-CS100`), the description with the pack
 * (`..., 10 BX/CS`), 8% less per base unit (case discount, rounded to keep whole cents).
 */
export function packSibling(item: CatalogueItem): CatalogueItem {
  const pack = item.pack * 10;
  const inner = item.pack > 1 ? `10 ${item.uom}/CS` : '10 EA/CS';
  return {
    ...item,
    itemId: `${item.itemId}-CS`,
    description: `${item.description}, ${inner}`,
    supplierPart: `${item.supplierPart}-CS${pack}`,
    manufacturerPart: `${item.manufacturerPart}CS`,
    gtin: null,
    uom: 'CS',
    pack,
    priceCents: Math.round((item.priceCents / item.pack) * 0.92) * pack,
  };
}

/** The description as another system writes it: abbreviated, upper-cased, words moved or dropped. */
export function rephrase(text: string, rng: Rng): string {
  let t = text;
  if (rng.chance(0.4))
    t = t
      .replace(/\bwith\b/gi, 'w/')
      .replace(/\bsterile\b/gi, 'ster')
      .replace(/\bdisposable\b/gi, 'disp');
  if (rng.chance(0.3)) {
    const w = t.split(' ');
    const i = rng.int(0, w.length - 2);
    [w[i], w[i + 1]] = [w[i + 1]!, w[i]!];
    t = w.join(' ');
  }
  if (rng.chance(0.3)) t = t.toUpperCase();
  return t;
}

/** A part number written differently: separators dropped or changed, case, leading zeros. */
export function reformatPart(part: string, rng: Rng): string {
  const k = rng.int(0, 3);
  if (k === 0) return part.replace(/-/g, '');
  if (k === 1) return part.replace(/-/g, ' ').toLowerCase();
  if (k === 2) return part.replace(/^0+/, '').replace(/-/g, '.');
  return `000${part.replace(/-/g, '')}`;
}

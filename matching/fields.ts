/**
 * A {@link MatchRecord} from named text fields of unknown schema (a row of a pair file, a CSV
 * export), by the field names:
 *
 * | field name contains | becomes |
 * | --- | --- |
 * | `manufacturer`, `brand`, `maker`, `mfr`, `vendor` | `manufacturer` |
 * | `price`, `cost` | `unitPriceCents` (first amount, `.` decimals) |
 * | `uom`, `unit` | `uom` |
 * | `pack` | `packQty` |
 * | `qty`, `quantity` | `quantity` |
 * | `sku`, `upc`, `ean`, `gtin`, `ndc`, `mpn`, `modelno`, `model`, `part`, `hcpcs`, `code`, `id` | `identifiers` |
 * | anything else (`title`, `name`, `description`, `authors`, `year`, ...) | `description`, in column order |
 *
 * Text-like fields named `title` or `name` come first in the description. Empty cells are skipped.
 */
import { parseAmount } from '../features/amount.js';
import type { MatchRecord } from './record.js';

const MANUFACTURER = /manufacturer|brand|maker|mfr|vendor/;
const PRICE = /price|cost/;
const UOM = /uom|unit/;
const PACK = /pack/;
const QUANTITY = /qty|quantity/;
const IDENTIFIER = /sku|upc|ean|gtin|ndc|mpn|model|part|hcpcs|code|(^|_)id$/;
const FIRST = /title|name/;

function cents(text: string): number | null {
  try {
    const c = parseAmount(text.trim(), { decimalSeparator: '.' }).cents;
    return c > 0 ? c : null;
  } catch {
    return null;
  }
}

function positive(text: string): number | null {
  const n = Number(/\d+(?:\.\d+)?/.exec(text)?.[0]);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** The field role of a field name (see the module table). */
export function fieldRole(
  name: string,
): 'manufacturer' | 'price' | 'uom' | 'pack' | 'quantity' | 'identifier' | 'description' {
  const n = name.toLowerCase();
  if (MANUFACTURER.test(n)) return 'manufacturer';
  if (PRICE.test(n)) return 'price';
  if (PACK.test(n)) return 'pack';
  if (QUANTITY.test(n)) return 'quantity';
  if (UOM.test(n)) return 'uom';
  if (IDENTIFIER.test(n)) return 'identifier';
  return 'description';
}

/**
 * Maps named fields to a record (see the module table).
 * @example recordFromFields({ title: 'adobe photoshop cs3', manufacturer: 'adobe', price: '599.0' })
 *   -> { description: 'adobe photoshop cs3', manufacturer: 'adobe', unitPriceCents: 59900, identifiers: [] }
 */
export function recordFromFields(fields: Readonly<Record<string, string>>): MatchRecord {
  const entries = Object.entries(fields).filter(([, v]) => v.trim() !== '');
  const text = entries.filter(([k]) => fieldRole(k) === 'description');
  const ordered = [
    ...text.filter(([k]) => FIRST.test(k.toLowerCase())),
    ...text.filter(([k]) => !FIRST.test(k.toLowerCase())),
  ];
  const first = (role: ReturnType<typeof fieldRole>): string | null =>
    entries.find(([k]) => fieldRole(k) === role)?.[1] ?? null;
  const price = first('price');
  const pack = first('pack');
  const quantity = first('quantity');
  return {
    description: ordered.map(([, v]) => v.trim()).join(' '),
    identifiers: entries.filter(([k]) => fieldRole(k) === 'identifier').map(([, v]) => v.trim()),
    manufacturer: first('manufacturer'),
    unitPriceCents: price === null ? null : cents(price),
    uom: first('uom'),
    packQty: pack === null ? null : positive(pack),
    quantity: quantity === null ? null : positive(quantity),
  };
}

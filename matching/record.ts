/**
 * The record a line match compares: one side of a candidate item match (an invoice line, a PO
 * line, a contract price-list entry, a product offer of a public benchmark).
 */

/** One side of a candidate item match. Money in integer cents. */
export interface MatchRecord {
  /** Free-text item description as written by the sender. */
  description: string;
  /**
   * Item identifiers in their raw formatting: supplier and manufacturer part numbers, NDC, GTIN
   * (UPC/EAN), HCPCS, the buyer's item number. Compared after normalisation
   * (`matching/identifiers.ts`); their kind need not be known.
   */
  identifiers?: string[];
  manufacturer?: string | null;
  /** Price in cents per `uom` (not per base unit). */
  unitPriceCents?: number | null;
  /** Unit of measure as written (`EA`, `BX`, `CS/10`, `box of 100`); see `matching/uom.ts`. */
  uom?: string | null;
  /** Base units (each) per `uom`, e.g. 100 for a box of 100; null when unknown. */
  packQty?: number | null;
  /** Quantity in `uom`. */
  quantity?: number | null;
}

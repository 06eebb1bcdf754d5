/**
 * Line alignment: which PO line(s) each invoice line bills. The matcher scores the (invoice
 * line, PO line) pairs (only the PO lines sharing an exact identifier with the invoice line when
 * there are such, all of them otherwise); a pair whose descriptions state different variant
 * attributes (size, colour, French size, gauge...: matching/variants.ts) and that shares no exact
 * identifier scores 0 (another member of the family, not the item ordered: the matcher weighs
 * the same conflict as its `variant_conflict` feature, but at its certified threshold of 0.001
 * it still passes 91 of 654 such pairs of the benchmark's test split, e.g. an 18 Fr Foley
 * against the 16 Fr ordered at 0.02). Pairs at or above
 * the threshold, and pairs sharing an exact identifier whatever their score (the identifier
 * names the item; price and unit differences are the checks' to report), are assigned one to
 * one, best first;
 * an invoice line whose candidates are all taken shares its best PO line (two invoice lines
 * billing one PO line, e.g. a split shipment) when that pair scores at least
 * {@link SHARE_MIN_SCORE}, and is otherwise aligned to nothing (another size or colour of an
 * ordered item, billed beside it, scores low against it but above a permissive threshold);
 * an invoice line billing more base units than its
 * PO line ordered also takes its other free candidates (one invoice line covering two PO lines
 * of the same item). A PO line number printed on the invoice line wins when the PO has it; an
 * invoice line citing a PO line number the PO lacks is aligned to nothing (`citedLineMissing`:
 * the stage reports it as not on the PO rather than guessing another line).
 */
import type { PoLine } from '../../core/erp.js';
import { packOf } from '../../core/erp.js';
import type { InvoiceLine } from '../../core/invoice.js';
import { compareIdentifiers } from '../../matching/identifiers.js';
import { variantAttributes, variantConflicts } from '../../matching/variants.js';
import type { MatchRecord } from '../../matching/record.js';
import type { ProcurementMatcher } from './matcher.js';
import { invoicePack } from './checks.js';
import { identifierList } from './units.js';

/**
 * Lowest P(same item) at which an invoice line shares a PO line already aligned to another
 * invoice line. On the procurement benchmark (seeds 15 and its certification draw, shipped
 * matcher) every such share of a line not on the PO scored at most 0.28 but one tie at 0.55,
 * and every right share at least 0.55.
 */
export const SHARE_MIN_SCORE = 0.5;

/** The PO lines one invoice line is aligned to (none: not on the PO), best first, with P(same item). */
export interface LineAlignment {
  invoiceLine: InvoiceLine;
  matches: { poLine: PoLine; score: number }[];
  /** Best matcher score over the PO's lines (0 for a PO without lines). */
  bestScore: number;
  /** The invoice line cites a PO line number the PO does not have (then `matches` is empty). */
  citedLineMissing: boolean;
}

/** An invoice line as the matcher sees it. */
export function invoiceMatchRecord(l: InvoiceLine): MatchRecord {
  return {
    description: l.description,
    identifiers: [...(l.item_identifiers ?? []), ...(l.code ? [l.code.value] : [])],
    unitPriceCents: l.unit_price_cents,
    uom: l.uom ?? null,
    packQty: l.pack_qty ?? null,
    quantity: l.quantity,
  };
}

/** A PO line as the matcher sees it. */
export function poMatchRecord(l: PoLine): MatchRecord {
  return {
    description: l.description,
    identifiers: identifierList(l.identifiers),
    unitPriceCents: l.unit_price_cents,
    uom: l.uom,
    packQty: packOf(l),
    quantity: l.quantity,
  };
}

/** Aligns the invoice lines to the PO lines (see the module doc). */
export function alignLines(
  invoiceLines: readonly InvoiceLine[],
  poLines: readonly PoLine[],
  matcher: ProcurementMatcher,
  threshold: number,
): LineAlignment[] {
  const poRecs = poLines.map(poMatchRecord);
  const poVariants = poLines.map((l) => variantAttributes(l.description));
  const exact: boolean[][] = [];
  const scores = invoiceLines.map((il) => {
    const rec = invoiceMatchRecord(il);
    // Blocking: when the line shares an exact identifier with some PO lines, only those are
    // scored (the others stay 0); otherwise every PO line is.
    const ids = rec.identifiers ?? [];
    const sharing =
      ids.length === 0 ? [] : poRecs.map((pr) => compareIdentifiers(ids, pr.identifiers ?? []).exact);
    const blocked = sharing.some(Boolean);
    const variants = variantAttributes(il.description);
    exact.push(poRecs.map((_, j) => sharing[j] === true));
    return poRecs.map((pr, j) =>
      blocked && !sharing[j]
        ? 0
        : !sharing[j] && variantConflicts(variants, poVariants[j]!).length > 0
          ? 0
          : matcher.score(rec, pr),
    );
  });
  // An exact identifier is the item: the pair is a candidate whatever its score.
  const candidate = (i: number, j: number): boolean => scores[i]![j]! >= threshold || exact[i]![j]!;
  const primary = new Map<number, number>();
  const taken = new Set<number>();
  const missing = invoiceLines.map(
    (il) => il.po_line_number !== undefined && !poLines.some((p) => p.line_number === il.po_line_number),
  );
  invoiceLines.forEach((il, i) => {
    if (il.po_line_number === undefined) return;
    const j = poLines.findIndex((p) => p.line_number === il.po_line_number);
    if (j >= 0 && candidate(i, j)) {
      primary.set(i, j);
      taken.add(j);
    }
  });
  const pairs: { i: number; j: number; s: number }[] = [];
  scores.forEach((row, i) =>
    row.forEach((s, j) => {
      if (candidate(i, j) && !primary.has(i) && !missing[i]) pairs.push({ i, j, s });
    }),
  );
  pairs.sort((a, b) => b.s - a.s || a.i - b.i || a.j - b.j);
  for (const p of pairs)
    if (!primary.has(p.i) && !taken.has(p.j)) {
      primary.set(p.i, p.j);
      taken.add(p.j);
    }
  for (const p of pairs) if (!primary.has(p.i) && p.s >= SHARE_MIN_SCORE) primary.set(p.i, p.j);
  return invoiceLines.map((il, i) => {
    const row = scores[i]!;
    const bestScore = row.reduce((m, s) => Math.max(m, s), 0);
    const j = primary.get(i);
    const citedLineMissing = missing[i]!;
    if (j === undefined) return { invoiceLine: il, matches: [], bestScore, citedLineMissing };
    const matches = [{ poLine: poLines[j]!, score: row[j]! }];
    const ordered = (l: PoLine) => l.quantity * packOf(l);
    // Billed base units in the invoice's own unit (24 EA against a line of 2 DZ is 24, not 288).
    const billed = il.quantity * (invoicePack(il, poLines[j]!, [])?.pack ?? packOf(poLines[j]!));
    let covered = ordered(poLines[j]!);
    if (billed > covered) {
      const extra = row
        .map((s, k) => ({ s, k }))
        .filter(({ k }) => k !== j && candidate(i, k) && !taken.has(k))
        .sort((a, b) => b.s - a.s || a.k - b.k);
      for (const { s, k } of extra) {
        if (covered >= billed) break;
        matches.push({ poLine: poLines[k]!, score: s });
        covered += ordered(poLines[k]!);
        taken.add(k);
      }
    }
    return { invoiceLine: il, matches, bestScore, citedLineMissing };
  });
}

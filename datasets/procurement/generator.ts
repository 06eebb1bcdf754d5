/**
 * The seeded procurement benchmark: vendors with catalogues, one purchase order per case with
 * its goods receipts and GPO contracts, and invoices drawn from them, each labelled with its
 * kind: a clean invoice, a match exception (the reason codes that must catch it) or a hard
 * negative (a correct invoice that looks like an exception). Cases alternate between the train
 * split (line-matcher training pairs) and the test split (evaluation). Money in cents.
 */
import type { ReasonCode } from '../../core/decision.js';
import type { Contract, ErpLoad, GoodsReceipt, PoLine, PurchaseOrder } from '../../core/erp.js';
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import { DEFAULT_PROCUREMENT_TOLERANCES } from '../../inference/procurement/tolerances.js';
import { deriveSeed } from '../../training/rng.js';
import { addDays, Rng } from '../synth.js';
import { drawCatalogue, reformatPart, rephrase, type CatalogueItem } from './catalogue.js';

/** Exception kinds and the reason codes that catch each. */
export const EXCEPTION_KINDS = {
  price_variance: ['PRICE_ABOVE_PO'],
  contract_not_honoured: ['PRICE_ABOVE_CONTRACT'],
  expired_contract: ['CONTRACT_EXPIRED'],
  uom_confusion: ['UOM_MISMATCH'],
  qty_above_receipt: ['QUANTITY_ABOVE_RECEIVED'],
  overbilling_across_invoices: ['QUANTITY_ABOVE_RECEIVED', 'PO_EXHAUSTED'],
  item_not_ordered: ['ITEM_NOT_ON_PO'],
  no_receipt: ['NO_RECEIPT'],
  other_vendor_po: ['PO_OTHER_VENDOR'],
} as const satisfies Record<string, readonly ReasonCode[]>;
export type ExceptionKind = keyof typeof EXCEPTION_KINDS;

/** Hard negatives: correct invoices that a naive match flags. */
export const HARD_NEGATIVE_KINDS = [
  'pack_conversion',
  'identifier_format',
  'partial_shipment',
  'price_within_tolerance',
  'contract_change_on_effective_date',
] as const;
export type HardNegativeKind = (typeof HARD_NEGATIVE_KINDS)[number];

/** A case's kind. */
export type CaseKind = ExceptionKind | HardNegativeKind | 'clean';

/** One labelled invoice of the benchmark. */
export interface ProcurementCase {
  caseId: string;
  split: 'train' | 'test';
  kind: CaseKind;
  label: 'exception' | 'hard_negative' | 'clean';
  invoice: Invoice;
  /** Invoices scored before this one against the same PO (over-billing across invoices). */
  prior: Invoice[];
  /** The catalogue item id of each invoice line (null: an item not on the PO), by line number. */
  lineItems: Record<number, string | null>;
}

/** The generated benchmark. */
export interface ProcurementBenchmark {
  seed: number;
  vendors: { id: string; name: string }[];
  load: ErpLoad;
  cases: ProcurementCase[];
  /** PO lines by PO number and line number -> catalogue item id (to label matcher pairs). */
  poItems: Record<string, Record<number, string>>;
  /** Each vendor's catalogue by vendor id (near-miss items for matcher pairs). */
  catalogues: Record<string, CatalogueItem[]>;
}

/** Options of {@link generateProcurementBenchmark}. */
export interface ProcurementBenchmarkOptions {
  seed: number;
  /** Cases per kind (half train, half test); default 80. */
  perKind?: number;
  vendors?: number;
}

const ALL_KINDS: CaseKind[] = [
  ...(Object.keys(EXCEPTION_KINDS) as ExceptionKind[]),
  ...HARD_NEGATIVE_KINDS,
  'clean',
];
const FACILITIES = ['FAC-N', 'FAC-S', 'FAC-E', 'FAC-W'];

interface Built {
  po: PurchaseOrder;
  receipts: GoodsReceipt[];
  contracts: Contract[];
  items: CatalogueItem[];
}

/** The PO line that orders `qty` of a catalogue item at its catalogue price. */
export function poLineOf(item: CatalogueItem, n: number, qty: number, contractId: string | null): PoLine {
  return {
    line_number: n,
    description: item.description,
    identifiers: {
      supplier_part: item.supplierPart,
      manufacturer_part: item.manufacturerPart,
      ...(item.gtin ? { gtin: item.gtin } : {}),
    },
    uom: item.uom,
    pack_qty: item.pack,
    quantity: qty,
    unit_price_cents: item.priceCents,
    ...(contractId ? { contract_id: contractId } : {}),
  };
}

function invoiceLineOf(
  item: CatalogueItem,
  n: number,
  qty: number,
  rng: Rng,
  over: Partial<InvoiceLine> = {},
): InvoiceLine {
  const price = over.unit_price_cents ?? item.priceCents;
  return {
    line_number: n,
    description: rephrase(item.description, rng),
    // A quarter of the lines print no item number: the description alone has to match.
    ...(rng.chance(0.25)
      ? {}
      : { item_identifiers: [rng.chance(0.7) ? item.supplierPart : item.manufacturerPart] }),
    uom: item.uom,
    quantity: qty,
    unit_price_cents: price,
    amount_cents: Math.round(qty * price),
    ...over,
  };
}

/** Generates the benchmark (see the module doc). Deterministic in `seed`. */
export function generateProcurementBenchmark(o: ProcurementBenchmarkOptions): ProcurementBenchmark {
  const rng = new Rng(o.seed);
  const perKind = o.perKind ?? 80;
  const vendors = Array.from({ length: o.vendors ?? 24 }, (_, i) => ({
    id: `SUP-${String(i + 1).padStart(3, '0')}`,
    name: `Supplier ${i + 1} Medical`,
  }));
  const suppliers = vendors.map((vendor, i) => ({ vendor, catalogue: drawCatalogue(i, 14, rng) }));
  const supplierAt = (i: number): (typeof suppliers)[number] => {
    const s = suppliers[i % suppliers.length];
    if (!s) throw new RangeError('no vendors');
    return s;
  };
  const otherVendorRng = new Rng(deriveSeed(o.seed, 'procurement-other-vendor'));
  const load: Required<ErpLoad> = { purchase_orders: [], receipts: [], contracts: [] };
  const cases: ProcurementCase[] = [];
  const poItems: Record<string, Record<number, string>> = {};
  let seq = 0;
  for (let k = 0; k < perKind; k++)
    for (const kind of ALL_KINDS) {
      seq++;
      const { vendor, catalogue: cat } = supplierAt(seq);
      const poNumber = `PO-${String(seq).padStart(6, '0')}`;
      const orderDate = addDays('2025-01-06', rng.int(0, 300));
      const invoiceDate = addDays(orderDate, rng.int(10, 40));
      // One facility per case, so that the contracts of other cases (same vendor, same items) do not apply.
      const facility = `${rng.pick(FACILITIES)}-${seq}`;
      const nLines = rng.int(2, 5);
      // Items of one PO: often two variants of one family side by side.
      const items = rng.shuffle(cat).slice(0, nLines);
      const contractId = `GPO-${seq}`;
      // Each PO line: the item and its ordered quantity.
      const ordered = items.map((item) => ({ item, qty: rng.int(2, 20) }));
      const po: PurchaseOrder = {
        po_number: poNumber,
        vendor_id: vendor.id,
        facility_id: facility,
        status: 'open',
        order_date: orderDate,
        version: 1,
        lines: ordered.map(({ item, qty }, j) => poLineOf(item, j + 1, qty, contractId)),
      };
      const contract: Contract = {
        contract_id: contractId,
        vendor_id: vendor.id,
        kind: 'gpo',
        tier: 'T1',
        effective_date: addDays(orderDate, -200),
        end_date: addDays(invoiceDate, 200),
        facilities: [facility],
        items: items.map((it) => ({
          identifiers: { supplier_part: it.supplierPart, manufacturer_part: it.manufacturerPart },
          uom: it.uom,
          pack_qty: it.pack,
          price_cents: it.priceCents,
        })),
        version: 1,
      };
      const receipts: GoodsReceipt[] = ordered.map(({ item: it, qty }, j) => ({
        receipt_id: `GR-${seq}-${j + 1}`,
        po_number: poNumber,
        po_line_number: j + 1,
        quantity: qty,
        uom: it.uom,
        pack_qty: it.pack,
        received_date: addDays(orderDate, 5),
        version: 1,
      }));
      const b: Built = { po, receipts, contracts: [contract], items };
      const lines = ordered.map(({ item, qty }, j) => invoiceLineOf(item, j + 1, qty, rng));
      const lineItems: Record<number, string | null> = Object.fromEntries(
        items.map((it, j) => [j + 1, it.itemId]),
      );
      const prior: Invoice[] = [];
      // The line the case changes: one sold in packs when the kind is about units.
      const packed = items.map((it, j) => (it.pack > 1 ? j : -1)).filter((j) => j >= 0);
      const t =
        (kind === 'pack_conversion' || kind === 'uom_confusion') && packed.length > 0
          ? rng.pick(packed)
          : rng.int(0, items.length - 1);
      const targetLine = ordered[t];
      const tl = lines[t];
      const receipt = receipts[t];
      if (!targetLine || !tl || !receipt) throw new RangeError(`line ${t} is not on PO ${poNumber}`);
      const { item: target, qty: targetQty } = targetLine;
      let invoicePo = poNumber;
      let invVendor = vendor;
      switch (kind) {
        case 'price_variance': {
          const up = Math.round(target.priceCents * rng.between(1.03, 1.2));
          lines[t] = priceVariant(
            { ...tl, unit_price_cents: up, amount_cents: Math.round(tl.quantity * up) },
            target,
            rng,
          );
          break;
        }
        case 'contract_not_honoured': {
          // A new contract price took effect before the invoice; the vendor bills the old (PO) price.
          const lower = Math.max(
            1,
            Math.min(Math.floor(target.priceCents * rng.between(0.8, 0.95)), target.priceCents - 10),
          );
          contract.end_date = addDays(invoiceDate, -rng.int(5, 30));
          b.contracts.push({
            ...contract,
            contract_id: `${contractId}-R`,
            effective_date: addDays(contract.end_date, 1),
            end_date: addDays(invoiceDate, 200),
            items: contract.items.map((ci, j) => (j === t ? { ...ci, price_cents: lower } : ci)),
          });
          break;
        }
        case 'expired_contract':
          contract.end_date = addDays(invoiceDate, -rng.int(1, 60));
          break;
        case 'uom_confusion': {
          // Billed per each at the box price, or per box at the each price x box quantity.
          if (target.pack > 1) lines[t] = { ...tl, uom: 'EA', amount_cents: tl.quantity * target.priceCents };
          else {
            const box = rng.pick([10, 12, 50]);
            lines[t] = {
              ...tl,
              uom: 'BX',
              unit_price_cents: target.priceCents * box,
              amount_cents: tl.quantity * target.priceCents * box,
            };
          }
          break;
        }
        case 'qty_above_receipt': {
          const got = Math.max(1, Math.floor(targetQty * rng.between(0.3, 0.8)));
          receipts[t] = { ...receipt, quantity: got };
          break;
        }
        case 'overbilling_across_invoices': {
          // An earlier invoice billed part of the line; this one bills the whole line again.
          const part = Math.max(1, Math.floor(targetQty / 2));
          prior.push(
            invoiceOf(`${poNumber}-A`, vendor, poNumber, facility, addDays(invoiceDate, -10), [
              invoiceLineOf(target, 1, part, rng),
            ]),
          );
          break;
        }
        case 'item_not_ordered': {
          // A third as drawn (another family); the others bill another size or colour of an
          // ordered item, with every part number of the invoice reformatted or with none.
          const sibling = cat.find(
            (x) => items.some((it) => it.family === x.family) && !items.some((it) => it.itemId === x.itemId),
          );
          const variant = rng.int(0, 2);
          const other =
            variant > 0 && sibling
              ? sibling
              : supplierAt(seq + 1).catalogue.find((x) => !items.some((it) => it.family === x.family))!;
          const extra = invoiceLineOf(other, lines.length + 1, rng.int(1, 5), rng);
          lines.push(extra);
          lineItems[lines.length] = null;
          if (variant === 1 && sibling)
            lines.forEach((l, j) => {
              const it = j < items.length ? items[j]! : other;
              if (l.item_identifiers) l.item_identifiers = [reformatPart(it.supplierPart, rng)];
            });
          if (variant === 2 && sibling) delete extra.item_identifiers;
          break;
        }
        case 'no_receipt':
          receipts.splice(t, 1);
          break;
        case 'other_vendor_po': {
          // Another distributor bills the PO. Half as drawn (the PO vendor's part numbers, some
          // lines without any); half carry the same manufacturer items: every line prints the
          // manufacturer part number at the PO (contract) price, so the document matches the PO
          // line for line. Drawn from a stream of its own, so the other cases stay as they were.
          invVendor = supplierAt(seq + 1).vendor;
          invoicePo = poNumber;
          if (otherVendorRng.chance(0.5))
            lines.forEach((l, j) => {
              l.item_identifiers = [items[j]!.manufacturerPart];
            });
          break;
        }
        case 'pack_conversion':
          if (target.pack > 1)
            lines[t] = {
              ...tl,
              uom: 'EA',
              quantity: tl.quantity * target.pack,
              unit_price_cents: target.priceCents / target.pack,
              amount_cents: tl.quantity * target.priceCents,
            };
          break;
        case 'identifier_format':
          ordered.forEach(({ item }, j) => {
            const l = lines[j];
            if (l) l.item_identifiers = [reformatPart(item.supplierPart, rng)];
          });
          break;
        case 'partial_shipment': {
          const got = Math.max(1, Math.floor(targetQty * rng.between(0.3, 0.8)));
          receipts[t] = { ...receipt, quantity: got };
          lines[t] = { ...tl, quantity: got, amount_cents: got * tl.unit_price_cents };
          break;
        }
        case 'price_within_tolerance': {
          // Within the default price tolerance (inference/procurement/tolerances.ts): above the PO
          // price by less than its percent per unit; an item too cheap for a whole cent within
          // the percent is billed a cent above on so few units that the line stays within its
          // cents (a few units of a partial billing).
          const { percent, lineCents } = DEFAULT_PROCUREMENT_TOLERANCES.pricePo;
          const u = rng.between(0.2, 0.9);
          const perUnit = Math.floor(((target.priceCents * percent) / 100) * u);
          const quantity =
            perUnit >= 1 ? tl.quantity : Math.min(tl.quantity, Math.max(1, Math.floor(lineCents * u)));
          const up = target.priceCents + Math.max(1, perUnit);
          lines[t] = { ...tl, quantity, unit_price_cents: up, amount_cents: quantity * up };
          break;
        }
        case 'contract_change_on_effective_date': {
          const lower = Math.max(
            1,
            Math.min(Math.floor(target.priceCents * rng.between(0.8, 0.95)), target.priceCents - 10),
          );
          contract.end_date = addDays(invoiceDate, -1);
          b.contracts.push({
            ...contract,
            contract_id: `${contractId}-R`,
            effective_date: invoiceDate,
            end_date: addDays(invoiceDate, 200),
            items: contract.items.map((ci, j) => (j === t ? { ...ci, price_cents: lower } : ci)),
          });
          lines[t] = { ...tl, unit_price_cents: lower, amount_cents: tl.quantity * lower };
          break;
        }
        case 'clean':
          break;
      }
      load.purchase_orders.push(po);
      load.receipts.push(...receipts);
      load.contracts.push(...b.contracts);
      poItems[poNumber] = Object.fromEntries(items.map((it, j) => [j + 1, it.itemId]));
      cases.push({
        caseId: `case-${seq}`,
        split: k % 2 === 0 ? 'train' : 'test',
        kind,
        label: kind === 'clean' ? 'clean' : kind in EXCEPTION_KINDS ? 'exception' : 'hard_negative',
        invoice: invoiceOf(`${poNumber}-B`, invVendor, invoicePo, facility, invoiceDate, lines),
        prior,
        lineItems,
      });
    }
  const byVendor = Object.fromEntries(suppliers.map((s) => [s.vendor.id, s.catalogue]));
  return { seed: o.seed, vendors, load, cases, poItems, catalogues: byVendor };
}

/**
 * A price-variance line as vendors also send it, which an exact-part-number rule reads as an
 * item not on the PO or prices per another unit: a quarter each as drawn, with the part number
 * written differently, billed per each at a converted price above the PO's (items sold in
 * packs; the others get the reformatted part number), or with no part number at all.
 */
function priceVariant(l: InvoiceLine, item: CatalogueItem, rng: Rng): InvoiceLine {
  const v = rng.int(0, 3);
  if (v === 0) return l;
  if (v === 2 && item.pack > 1) {
    const quantity = l.quantity * item.pack;
    const each = Math.ceil(l.unit_price_cents / item.pack);
    return { ...l, uom: 'EA', quantity, unit_price_cents: each, amount_cents: quantity * each };
  }
  if (v === 3) {
    const out = { ...l };
    delete out.item_identifiers;
    return out;
  }
  return { ...l, item_identifiers: [reformatPart(item.supplierPart, rng)] };
}

function invoiceOf(
  id: string,
  vendor: { id: string; name: string },
  poNumber: string,
  facility: string,
  date: string,
  lines: InvoiceLine[],
): Invoice {
  return {
    invoice_id: `INV-${id}`,
    vendor: { id: vendor.id, name: vendor.name },
    invoice_number: `N${id.replace(/\D/g, '')}`,
    invoice_date: date,
    currency: 'USD',
    total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
    document_type: 'invoice',
    po_number: poNumber,
    facility_id: facility,
    lines,
  };
}

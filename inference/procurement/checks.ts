/**
 * The checks of one aligned invoice line against its PO line(s), receipts and contracts, each
 * a reason code with evidence (matched PO line, receipt, contract price, variance in cents and
 * percent, the conversion used), the suggested correction and the cents at risk:
 *
 * - `UOM_MISMATCH`: the billed unit differs from the PO line's and the unit price does not fit
 *   the pack conversion (billed per each at the box price: above {@link UOM_PRICE_FACTOR} times
 *   the converted price; or a unit whose size is unknown); or the quantity was not converted
 *   (beside `QUANTITY_ABOVE_RECEIVED`: the billed count exceeds what is available and is the
 *   PO line's ordered, received or available count in the PO's unit, as 24 DZ billed for 24 EA
 *   ordered); or the quantity is not a whole number of a count or pack unit (2.5 EA:
 *   `quantity_not_whole`, core/units.ts); or the line states a `pack_qty` other than its
 *   fixed-count unit's count (DZ with pack_qty 10: `pack_qty_contradicts_unit`, the line is read
 *   as the unit's count). Intake accepts both so that no invoice is lost;
 * - `PRICE_ABOVE_PO`: unit price, converted to the PO unit, above the PO price;
 * - `PRICE_ABOVE_CONTRACT`: above the lowest price of a contract item for the same item in force
 *   on the invoice date for the facility; `CONTRACT_EXPIRED`: the PO line's contract is not in
 *   force and no other contract is; `CONTRACT_FACILITY_NOT_ELIGIBLE`: the PO line cites a
 *   contract in force that does not list the facility (a tier the facility is not entitled to),
 *   whether or not another contract prices the line;
 * - `NO_RECEIPT`, `PO_EXHAUSTED`, `QUANTITY_ABOVE_RECEIVED`: base units billed vs received
 *   minus what earlier invoices billed against the line. At risk: the cents billed beyond what
 *   is available; for `NO_RECEIPT` the whole line amount (nothing received to pay for).
 *
 * Amounts are cents; quantities in base units (each) unless named otherwise. Pure.
 */
import type { Contract, ContractItem, GoodsReceipt, InvoicedSoFar, PoLine } from '../../core/erp.js';
import { packOf } from '../../core/erp.js';
import type { Reason } from '../../core/decision.js';
import type { InvoiceLine } from '../../core/invoice.js';
import { reason } from '../explain.js';
import { identifierKeys } from '../../matching/identifiers.js';
import { fixedCountOf, isCountUnit } from '../../core/units.js';
import { baseUnitsPer } from '../../matching/uom.js';
import { exceeds, priceExceeds, priceVariance, type ProcurementTolerances } from './tolerances.js';
import { convertPrice, identifierList, toBase, uomCode, type UnitOf } from './units.js';

/**
 * A price in another unit than the PO's more than this many times the PO price converted to that
 * unit is billed in the wrong unit (`UOM_MISMATCH`: per each at the box price is 10 to 1 000
 * times); up to it, a price above the PO's in a converted unit (`PRICE_ABOVE_PO`).
 */
export const UOM_PRICE_FACTOR = 1.5;

/** Weight of every procurement reason (a check beyond tolerance, not a model score). */
export const PROCUREMENT_WEIGHT = 0.8;

/** What the line should have billed, from the PO or contract (never applied; shown to the reviewer). */
export interface SuggestedLine {
  quantity: number;
  uom: string;
  unit_price_cents: number;
  amount_cents: number;
  /** "bill 10 EA at 412 cents, not 10 BX at 41200 cents". */
  text: string;
  basis: 'po' | 'contract' | 'receipt';
}

/** Result of checking one line. */
export interface LineCheck {
  reasons: Reason[];
  suggested: SuggestedLine | null;
  /** Overbilled cents on the line (the largest of its checks' gaps, never negative). */
  atRiskCents: number;
  /** How the invoice unit was converted to the PO unit (`1 BX = 100 EA`), or null when the units are the same. */
  conversion: string | null;
  /** Base units (each) the line bills against each matched PO line. */
  allocations: { poLine: PoLine; baseQuantity: number; amountCents: number }[];
}

/** The data one line is checked against. */
export interface LineCheckInput {
  line: InvoiceLine;
  /** Matched PO lines, best first (at least one). */
  poLines: PoLine[];
  score: number;
  receipts: readonly GoodsReceipt[];
  invoiced: ReadonlyMap<number, InvoicedSoFar>;
  contracts: readonly Contract[];
  /** {@link indexContracts} of `contracts`. */
  contractIndex: ContractIndex;
  invoiceDate: string;
  facilityId: string | null;
  tolerances: ProcurementTolerances;
}

const pct = (gap: number, base: number): number => (base === 0 ? 0 : Math.round((gap / base) * 10_000) / 100);
const cents = (x: number): number => Math.round(x);

function suggestion(
  q: number,
  uom: string,
  price: number,
  billed: InvoiceLine,
  basis: SuggestedLine['basis'],
): SuggestedLine {
  const unitPrice = cents(price);
  const billedUom = billed.uom ? uomCode(billed.uom) : uom;
  return {
    quantity: q,
    uom,
    unit_price_cents: unitPrice,
    amount_cents: cents(q * price),
    text: `bill ${q} ${uom} at ${unitPrice} cents, not ${billed.quantity} ${billedUom} at ${billed.unit_price_cents} cents`,
    basis,
  };
}

/** The unit of a record (`uom`, `pack_qty`). */
const unitOf = (r: { uom: string; pack_qty?: number | undefined }): UnitOf => ({
  uom: uomCode(r.uom),
  pack: packOf(r),
});

/** Contract items by identifier key (matching/identifiers.ts `identifierKeys`), built once per invoice. */
export type ContractIndex = Map<string, { contract: Contract; item: ContractItem }[]>;

/** Indexes the contract items of a vendor by identifier key. */
export function indexContracts(contracts: readonly Contract[]): ContractIndex {
  const index: ContractIndex = new Map();
  for (const contract of contracts)
    for (const item of contract.items)
      for (const key of new Set(identifierList(item.identifiers).flatMap(identifierKeys)))
        index.set(key, [...(index.get(key) ?? []), { contract, item }]);
  return index;
}

/** Contract items for the item of a PO line (an identifier shared exactly), with their contract. */
function contractItems(po: PoLine, line: InvoiceLine, index: ContractIndex) {
  const ids = [...identifierList(po.identifiers), ...(line.item_identifiers ?? [])];
  const out = new Set<{ contract: Contract; item: ContractItem }>();
  for (const key of new Set(ids.flatMap(identifierKeys))) for (const e of index.get(key) ?? []) out.add(e);
  return [...out];
}

/**
 * The billed unit of an invoice line and its size in base units: a fixed-count unit's count
 * (core/units.ts: `DZ` 12, `EA` 1, whatever `pack_qty` the line states, e.g. a UBL
 * `PackSizeNumeric` of the item billed by the each; a contradicting one is flagged by
 * {@link statedUnitCheck}), else the line's `pack_qty`, the PO line's
 * size when the unit is the same, a contract item's for that unit, or a count in the unit text or
 * the description (matching/uom.ts: `BX/100`, `box of 50`); null when unknown.
 */
export function invoicePack(line: InvoiceLine, po: PoLine, items: { item: ContractItem }[]): UnitOf | null {
  const poUnit = unitOf(po);
  const uom = line.uom ? uomCode(line.uom) : poUnit.uom;
  const fixed = fixedCountOf(line.uom ?? po.uom);
  if (fixed !== null) return { uom, pack: fixed };
  if (line.pack_qty !== undefined) return { uom, pack: line.pack_qty };
  if (uom === poUnit.uom) return poUnit;
  const fromContract = items.find(({ item }) => uomCode(item.uom) === uom);
  if (fromContract) return unitOf(fromContract.item);
  // A fixed-count unit (EA, DZ...) or a count in the unit text or the description (`BX/100`, `box of 50`).
  const pack = baseUnitsPer({ uom: line.uom ?? null, description: line.description });
  return pack === null ? null : { uom, pack };
}

/** Checks one aligned line (see the module doc). */
export function checkLine(x: LineCheckInput): LineCheck {
  const { line, tolerances: tol } = x;
  const po = x.poLines[0]!;
  const poUnit = unitOf(po);
  const items = contractItems(po, line, x.contractIndex);
  const unit = invoicePack(line, po, items);
  const reasons: Reason[] = [];
  let atRisk = 0;
  let suggested: SuggestedLine | null = null;
  const flag = (
    code: Parameters<typeof reason>[0],
    evidence: Record<string, unknown>,
    gapCents: number,
    s: SuggestedLine | null,
    message?: string,
  ) => {
    reasons.push(
      reason(
        code,
        PROCUREMENT_WEIGHT,
        {
          line_number: line.line_number,
          po_line_number: po.line_number,
          match_score: Math.round(x.score * 1000) / 1000,
          ...evidence,
        },
        message,
      ),
    );
    if (gapCents > atRisk || (suggested === null && s !== null)) {
      atRisk = Math.max(atRisk, gapCents);
      suggested = s ?? suggested;
    }
  };
  const conversion =
    unit && unit.uom !== poUnit.uom ? `1 ${poUnit.uom} = ${poUnit.pack / unit.pack} ${unit.uom}` : null;
  // Unit of measure: the billed unit must convert, and the price must fit the conversion (a
  // price above it by less than UOM_PRICE_FACTOR is a price variance, checked below in PO units).
  const expectedInUnit = unit ? convertPrice(po.unit_price_cents, poUnit, unit) : null;
  if (
    !unit ||
    (unit.uom !== poUnit.uom &&
      expectedInUnit !== null &&
      priceExceeds(
        line.unit_price_cents,
        expectedInUnit,
        priceVariance(line, expectedInUnit).lineCents,
        tol.pricePo,
      ) &&
      line.unit_price_cents > expectedInUnit * UOM_PRICE_FACTOR)
  ) {
    const qPo = unit ? (line.quantity * unit.pack) / poUnit.pack : line.quantity;
    const s = suggestion(qPo, poUnit.uom, po.unit_price_cents, line, 'po');
    flag(
      'UOM_MISMATCH',
      {
        billed_uom: line.uom ?? null,
        po_uom: poUnit.uom,
        po_pack_qty: poUnit.pack,
        conversion: unit ? `1 ${unit.uom} = ${unit.pack} EA, 1 ${poUnit.uom} = ${poUnit.pack} EA` : 'unknown',
        po_unit_price_cents: po.unit_price_cents,
        expected_unit_price_cents: expectedInUnit === null ? null : cents(expectedInUnit),
        billed_unit_price_cents: line.unit_price_cents,
      },
      Math.max(0, line.amount_cents - s.amount_cents),
      s,
    );
    return {
      reasons,
      suggested,
      atRiskCents: atRisk,
      conversion,
      allocations: allocate(x, line.quantity * (unit?.pack ?? poUnit.pack)),
    };
  }
  const billedBase = toBase(line.quantity, unit);
  // Price against the PO: per PO unit and on the extended line amount.
  const billedPerPoUnit = convertPrice(line.unit_price_cents, unit, poUnit);
  const poLineVariance = priceVariance(line, expectedInUnit!).lineCents;
  if (priceExceeds(billedPerPoUnit, po.unit_price_cents, poLineVariance, tol.pricePo)) {
    const s = suggestion(line.quantity, unit.uom, expectedInUnit!, line, 'po');
    const gap = billedPerPoUnit - po.unit_price_cents;
    flag(
      'PRICE_ABOVE_PO',
      {
        po_unit_price_cents: po.unit_price_cents,
        billed_unit_price_cents: line.unit_price_cents,
        variance_cents_per_unit: cents(gap),
        variance_percent: pct(gap, po.unit_price_cents),
        variance_cents: Math.max(0, line.amount_cents - s.amount_cents),
        conversion,
        tolerance: tol.pricePo,
      },
      Math.max(0, line.amount_cents - s.amount_cents),
      s,
    );
  }
  contractCheck(x, po, unit, items, flag);
  quantityCheck(x, po, unit, billedBase, flag);
  statedUnitCheck(line, po, flag);
  return { reasons, suggested, atRiskCents: atRisk, conversion, allocations: allocate(x, billedBase) };
}

type Flag = (
  code: Parameters<typeof reason>[0],
  evidence: Record<string, unknown>,
  gapCents: number,
  s: SuggestedLine | null,
  message?: string,
) => void;

/**
 * What the line states about its unit against the unit table (core/units.ts), each a
 * `UOM_MISMATCH` with no cents at risk for AP to read: a quantity that is not a whole number of
 * a count or pack unit (2.5 EA, or 0.0001 EA billed as 0 cents: `quantity_not_whole`), and a
 * `pack_qty` other than a multi-unit fixed count (DZ with 10: `pack_qty_contradicts_unit`; an
 * `EA` line's `pack_qty` is the item's pack size and is not flagged;
 * {@link invoicePack} reads the line as the unit's count). Either is a quantity in another unit
 * than stated, or a typo.
 */
function statedUnitCheck(line: InvoiceLine, po: PoLine, flag: Flag): void {
  const billedUom = line.uom ?? po.uom;
  const stated = { billed_uom: line.uom ?? null, billed_quantity: line.quantity, po_uom: uomCode(po.uom) };
  if (isCountUnit(billedUom) && !Number.isInteger(line.quantity))
    flag(
      'UOM_MISMATCH',
      { ...stated, quantity_not_whole: true },
      0,
      null,
      `The billed quantity is not a whole number of ${uomCode(billedUom)}: billed in another unit than stated, or mistyped.`,
    );
  const fixed = fixedCountOf(billedUom);
  // A pack_qty on a line billed by the each is the item's pack size (UBL `PackSizeNumeric`, X12
  // PO401), not a count of the unit: only a multi-unit count (DZ, PR, GR...) can be contradicted.
  if (fixed !== null && fixed > 1 && line.pack_qty !== undefined && line.pack_qty !== fixed)
    flag(
      'UOM_MISMATCH',
      { ...stated, stated_pack_qty: line.pack_qty, unit_fixed_count: fixed, pack_qty_contradicts_unit: true },
      0,
      null,
      `The billed pack_qty ${line.pack_qty} contradicts ${uomCode(billedUom)}, which holds ${fixed} each: read as ${fixed} each.`,
    );
}

function contractCheck(
  x: LineCheckInput,
  po: PoLine,
  unit: UnitOf,
  items: { contract: Contract; item: ContractItem }[],
  flag: Flag,
): void {
  const { line } = x;
  const inForce = items.filter(
    ({ contract: c }) => c.effective_date <= x.invoiceDate && x.invoiceDate <= c.end_date,
  );
  const eligible = inForce.filter(
    ({ contract: c }) =>
      c.facilities.length === 0 || (x.facilityId !== null && c.facilities.includes(x.facilityId)),
  );
  if (eligible.length > 0) {
    const best = eligible
      .map((e) => ({ ...e, price: convertPrice(e.item.price_cents, unitOf(e.item), unit) }))
      .sort((a, b) => a.price - b.price || a.contract.contract_id.localeCompare(b.contract.contract_id))[0]!;
    const lineVariance = priceVariance(line, best.price).lineCents;
    if (priceExceeds(line.unit_price_cents, best.price, lineVariance, x.tolerances.priceContract)) {
      const s = suggestion(line.quantity, unit.uom, best.price, line, 'contract');
      const gap = line.unit_price_cents - best.price;
      flag(
        'PRICE_ABOVE_CONTRACT',
        {
          contract_id: best.contract.contract_id,
          contract_tier: best.contract.tier ?? null,
          contract_effective_date: best.contract.effective_date,
          contract_end_date: best.contract.end_date,
          contract_unit_price_cents: cents(best.price),
          billed_unit_price_cents: line.unit_price_cents,
          variance_cents_per_unit: cents(gap),
          variance_percent: pct(gap, best.price),
          variance_cents: Math.max(0, line.amount_cents - s.amount_cents),
          tolerance: x.tolerances.priceContract,
        },
        Math.max(0, line.amount_cents - s.amount_cents),
        s,
      );
    }
  }
  if (po.contract_id === undefined) return;
  const own = x.contracts.find((c) => c.contract_id === po.contract_id);
  if (!own || eligible.some((e) => e.contract === own)) return;
  const dated = own.effective_date <= x.invoiceDate && x.invoiceDate <= own.end_date;
  // Another contract in force for the facility prices the line; an expired citation is then moot.
  if (eligible.length > 0 && !dated) return;
  const evidence = {
    contract_id: own.contract_id,
    contract_effective_date: own.effective_date,
    contract_end_date: own.end_date,
    invoice_date: x.invoiceDate,
    facility_id: x.facilityId,
    eligible_facilities: own.facilities,
  };
  if (!dated) flag('CONTRACT_EXPIRED', evidence, 0, null);
  else flag('CONTRACT_FACILITY_NOT_ELIGIBLE', evidence, 0, null);
}

/** Base units received for a PO line (receipts in their own units). */
function receivedBase(receipts: readonly GoodsReceipt[], po: PoLine): { base: number; ids: string[] } {
  const mine = receipts.filter((r) => r.po_line_number === po.line_number);
  return {
    base: mine.reduce((a, r) => a + toBase(r.quantity, unitOf(r)), 0),
    ids: mine.map((r) => r.receipt_id),
  };
}

function quantityCheck(x: LineCheckInput, po: PoLine, unit: UnitOf, billedBase: number, flag: Flag): void {
  const { line } = x;
  let received = 0;
  let ordered = 0;
  let already = 0;
  const receiptIds: string[] = [];
  const earlier: string[] = [];
  for (const p of x.poLines) {
    const r = receivedBase(x.receipts, p);
    received += r.base;
    receiptIds.push(...r.ids);
    ordered += p.quantity * packOf(p);
    const inv = x.invoiced.get(p.line_number);
    already += inv?.baseQuantity ?? 0;
    earlier.push(...(inv?.invoiceIds ?? []));
  }
  const perBase = line.unit_price_cents / unit.pack;
  if (receiptIds.length === 0) {
    // Nothing received: the whole billed amount is unreceived, the expected cost of paying now.
    const unreceived = Math.max(0, line.amount_cents);
    flag(
      'NO_RECEIPT',
      {
        po_line_numbers: x.poLines.map((p) => p.line_number),
        billed_base_units: billedBase,
        unreceived_cents: unreceived,
      },
      unreceived,
      null,
    );
    return;
  }
  if (already >= ordered && billedBase > 0) {
    const s = suggestion(0, unit.uom, line.unit_price_cents, line, 'po');
    flag(
      'PO_EXHAUSTED',
      { ordered_base_units: ordered, already_invoiced_base_units: already, earlier_invoices: earlier },
      line.amount_cents,
      s,
    );
    return;
  }
  const available = Math.max(0, received - already);
  if (exceeds(billedBase, available, x.tolerances.quantity)) {
    const q = Math.floor(available / unit.pack);
    const s = suggestion(q, unit.uom, line.unit_price_cents, line, 'receipt');
    flag(
      'QUANTITY_ABOVE_RECEIVED',
      {
        billed_base_units: billedBase,
        received_base_units: received,
        already_invoiced_base_units: already,
        available_base_units: available,
        receipts: receiptIds,
        earlier_invoices: earlier,
        across_invoices: already > 0,
        variance_base_units: billedBase - available,
        variance_cents: cents((billedBase - available) * perBase),
      },
      cents((billedBase - available) * perBase),
      s,
    );
    // The count is the PO's own count in its unit (ordered, received or still available), not
    // converted to the billed unit: 24 DZ billed for 24 EA ordered.
    const poPack = packOf(po);
    const poCounts = [ordered, received, available].map((base) => base / poPack);
    if (unit.pack !== poPack && poCounts.includes(line.quantity)) {
      const q = (line.quantity * poPack) / unit.pack;
      flag(
        'UOM_MISMATCH',
        {
          billed_uom: line.uom ?? null,
          billed_quantity: line.quantity,
          po_uom: uomCode(po.uom),
          po_pack_qty: poPack,
          conversion: `1 ${unit.uom} = ${unit.pack} EA, 1 ${uomCode(po.uom)} = ${poPack} EA`,
          quantity_not_converted: true,
          available_base_units: available,
        },
        cents((billedBase - line.quantity * poPack) * perBase),
        Number.isInteger(q)
          ? suggestion(q, unit.uom, line.unit_price_cents, line, 'po')
          : suggestion(line.quantity, uomCode(po.uom), po.unit_price_cents, line, 'po'),
      );
    }
  }
}

/** Splits the billed base units over the matched PO lines: each up to its ordered quantity, the rest on the last. */
function allocate(x: LineCheckInput, billedBase: number): LineCheck['allocations'] {
  let left = billedBase;
  return x.poLines.map((p, k) => {
    const take = k === x.poLines.length - 1 ? left : Math.min(left, p.quantity * packOf(p));
    left -= take;
    const share = billedBase === 0 ? 0 : take / billedBase;
    return { poLine: p, baseQuantity: take, amountCents: Math.round(x.line.amount_cents * share) };
  });
}

import { describe, expect, it } from 'vitest';
import type { ProcurementContext, ProcurementLookup } from '../../core/erp.js';
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import { makeContract, makePo, makeReceipts } from '../../test/erp-fixtures.js';
import { makeInvoice } from '../../test/fixtures.js';
import { SHARE_MIN_SCORE } from '../procurement/align.js';
import { choosePo } from '../procurement/choose.js';
import {
  DEFAULT_MATCH_THRESHOLD,
  identifierRuleMatcher,
  type ProcurementMatcher,
} from '../procurement/matcher.js';
import { DEFAULT_PROCUREMENT_TOLERANCES, procurementTolerances } from '../procurement/tolerances.js';
import { matchProcurement } from './procurement.js';

const gloves = (over: Partial<InvoiceLine> = {}): InvoiceLine => ({
  line_number: 1,
  description: 'Nitrile exam gloves, medium',
  item_identifiers: ['0100071520'],
  uom: 'BX',
  quantity: 10,
  unit_price_cents: 4_120,
  amount_cents: 41_200,
  ...over,
});

const invoiceOf = (lines: InvoiceLine[], over: Partial<Invoice> = {}): Invoice =>
  makeInvoice({
    invoice_id: 'po-inv-1',
    po_number: 'PO-1001',
    facility_id: 'FAC-1',
    invoice_date: '2025-03-01',
    lines,
    total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
    ...over,
  });

const context = (over: Partial<ProcurementContext> = {}): ProcurementLookup => ({
  kind: 'context',
  context: {
    po: makePo(),
    chosenBy: 'cited',
    receipts: makeReceipts(),
    invoiced: new Map(),
    contracts: [makeContract()],
    ...over,
  },
});

const run = (inv: Invoice, lookup: ProcurementLookup = context()) =>
  matchProcurement(inv, lookup, identifierRuleMatcher, DEFAULT_PROCUREMENT_TOLERANCES);
const codes = (inv: Invoice, lookup?: ProcurementLookup) => run(inv, lookup).reasons.map((r) => r.code);

describe('procurement stage', () => {
  it('passes an invoice that matches PO, receipt and contract, and records what it billed', () => {
    const r = run(invoiceOf([gloves()]));
    expect(r.reasons).toEqual([]);
    expect(r.summary).toMatchObject({ po_number: 'PO-1001', chosen_by: 'cited', all_lines_matched: true });
    expect(r.summary!.lines[0]!.po_line_numbers).toEqual([1]);
    expect(r.billing).toEqual({
      poNumber: 'PO-1001',
      allocations: [{ poLineNumber: 1, baseQuantity: 1000, amountCents: 41_200 }],
    });
  });

  it('does nothing without ERP data or for a credit memo', () => {
    expect(run(invoiceOf([gloves()]), { kind: 'none' })).toMatchObject({
      reasons: [],
      summary: null,
      billing: null,
    });
    expect(run(invoiceOf([gloves()], { document_type: 'credit_memo' })).summary).toBeNull();
    expect(run(invoiceOf([gloves()], { document_type: 'credit_memo' })).reasons).toEqual([]);
  });

  it('accepts a correct pack conversion (1 000 EA at the each price)', () => {
    const r = run(
      invoiceOf([gloves({ uom: 'EA', quantity: 1000, unit_price_cents: 41, amount_cents: 41_000 })]),
    );
    expect(r.reasons).toEqual([]);
    expect(r.summary!.lines[0]!.conversion).toBe('1 BX = 100 EA');
  });

  it('flags billing per each at the box price as UOM_MISMATCH with a suggested correction', () => {
    const r = run(
      invoiceOf([gloves({ uom: 'EA', quantity: 10, unit_price_cents: 4_120, amount_cents: 41_200 })]),
    );
    expect(r.reasons.map((x) => x.code)).toEqual(['UOM_MISMATCH']);
    expect(r.summary!.lines[0]!.suggested).toMatchObject({
      quantity: 0.1,
      uom: 'BX',
      unit_price_cents: 4_120,
      amount_cents: 412,
    });
    expect(r.amountAtRiskCents).toBe(41_200 - 412);
  });

  it('reads a price above the PO billed per each as a price variance, not a unit error', () => {
    // 1 000 EA at 45 cents: the PO's box of 100 at 4 120 cents is 41.2 cents each.
    const r = run(
      invoiceOf([gloves({ uom: 'EA', quantity: 1000, unit_price_cents: 45, amount_cents: 45_000 })]),
    );
    expect(r.reasons.map((x) => x.code)).toContain('PRICE_ABOVE_PO');
    expect(r.reasons.map((x) => x.code)).not.toContain('UOM_MISMATCH');
    expect(r.summary!.lines[0]!.conversion).toBe('1 BX = 100 EA');
  });

  it('flags a price above the PO with variance in cents and percent', () => {
    const r = run(invoiceOf([gloves({ unit_price_cents: 4_500, amount_cents: 45_000 })]));
    const codes = r.reasons.map((x) => x.code);
    expect(codes).toContain('PRICE_ABOVE_PO');
    const ev = r.reasons.find((x) => x.code === 'PRICE_ABOVE_PO')!.evidence;
    expect(ev).toMatchObject({ variance_cents_per_unit: 380, variance_percent: 9.22, variance_cents: 3_800 });
    expect(r.amountAtRiskCents).toBe(3_800);
  });

  it('keeps a price within tolerance (0.5 %)', () => {
    expect(codes(invoiceOf([gloves({ unit_price_cents: 4_140, amount_cents: 41_400 })]))).toEqual([]);
    expect(codes(invoiceOf([gloves({ unit_price_cents: 4_150, amount_cents: 41_500 })]))).toEqual([
      'PRICE_ABOVE_PO',
      'PRICE_ABOVE_CONTRACT',
    ]);
  });

  it('flags 5 cents per each above a contract per case (+6.3 %), within 5 cents per unit but not per line', () => {
    // The PO prices gowns at 84 each; the contract 3 950 per case of 50, 79 each.
    const po = makePo({
      lines: [
        {
          line_number: 1,
          description: 'Isolation gown AAMI level 2 yellow universal',
          identifiers: { supplier_part: 'IG-L2-YEL-U' },
          uom: 'EA',
          quantity: 300,
          unit_price_cents: 84,
          contract_id: 'GPO-7',
        },
      ],
    });
    const contract = makeContract({
      items: [{ identifiers: { supplier_part: 'IG-L2-YEL-U' }, uom: 'CS', pack_qty: 50, price_cents: 3_950 }],
    });
    const receipt = { ...makeReceipts()[1]!, po_line_number: 1, quantity: 300 };
    const lookup = context({ po, contracts: [contract], receipts: [receipt] });
    const gowns = (quantity: number, unit: number): InvoiceLine => ({
      line_number: 1,
      description: 'ISOLATION GOWN AAMI LVL 2 YELLOW UNIVERSAL EA',
      item_identifiers: ['IG-L2-YEL-U'],
      uom: 'EA',
      quantity,
      unit_price_cents: unit,
      amount_cents: quantity * unit,
    });
    const r = run(invoiceOf([gowns(300, 84)]), lookup);
    expect(r.reasons.map((x) => x.code)).toEqual(['PRICE_ABOVE_CONTRACT']);
    expect(r.reasons[0]!.evidence).toMatchObject({
      contract_unit_price_cents: 79,
      variance_cents_per_unit: 5,
      variance_percent: 6.33,
      variance_cents: 1_500,
      tolerance: DEFAULT_PROCUREMENT_TOLERANCES.priceContract,
    });
    expect(r.amountAtRiskCents).toBe(1_500);
    // At the contract price, or a cent above on 5 gowns (5 cents on the line), nothing.
    expect(codes(invoiceOf([gowns(300, 79)]), lookup)).toEqual([]);
    expect(codes(invoiceOf([gowns(5, 80)]), lookup)).toEqual([]);
    // A tenant whose policy allows 5 cents per unit keeps the old answer.
    const lenient = procurementTolerances({ price_contract: { abs: 5, percent: 0.5 } });
    expect(
      matchProcurement(invoiceOf([gowns(300, 84)]), lookup, identifierRuleMatcher, lenient).reasons,
    ).toEqual([]);
  });

  it('flags a price above the contract in force, an expired contract and a facility not eligible', () => {
    const cheaper = context({
      contracts: [
        makeContract({
          items: [
            { identifiers: { supplier_part: '010-00715-20' }, uom: 'BX', pack_qty: 100, price_cents: 3_900 },
          ],
        }),
      ],
    });
    expect(codes(invoiceOf([gloves()]), cheaper)).toEqual(['PRICE_ABOVE_CONTRACT']);
    expect(codes(invoiceOf([gloves()], { invoice_date: '2026-02-01' }))).toEqual(['CONTRACT_EXPIRED']);
    expect(codes(invoiceOf([gloves()], { facility_id: 'FAC-9' }))).toEqual([
      'CONTRACT_FACILITY_NOT_ELIGIBLE',
    ]);
  });

  it('honours a contract price change on its effective date', () => {
    const old = makeContract({ end_date: '2025-02-28' });
    const next = makeContract({
      contract_id: 'GPO-7B',
      effective_date: '2025-03-01',
      items: [
        { identifiers: { supplier_part: '010-00715-20' }, uom: 'BX', pack_qty: 100, price_cents: 4_000 },
      ],
    });
    const lookup = context({ contracts: [old, next] });
    expect(codes(invoiceOf([gloves({ unit_price_cents: 4_000, amount_cents: 40_000 })]), lookup)).toEqual([]);
    expect(codes(invoiceOf([gloves()]), lookup)).toEqual(['PRICE_ABOVE_CONTRACT']);
  });

  it('flags quantity above received minus invoiced, across invoices, and no receipt', () => {
    expect(codes(invoiceOf([gloves({ quantity: 12, amount_cents: 49_440 })]))).toEqual([
      'QUANTITY_ABOVE_RECEIVED',
    ]);
    const earlier = context({
      invoiced: new Map([[1, { baseQuantity: 600, amountCents: 24_720, invoiceIds: ['a'] }]]),
    });
    const r = run(invoiceOf([gloves({ quantity: 5, amount_cents: 20_600 })]), earlier);
    expect(r.reasons.map((x) => x.code)).toEqual(['QUANTITY_ABOVE_RECEIVED']);
    expect(r.reasons[0]!.evidence).toMatchObject({
      across_invoices: true,
      available_base_units: 400,
      earlier_invoices: ['a'],
    });
    expect(r.summary!.lines[0]!.suggested).toMatchObject({ quantity: 4, uom: 'BX', basis: 'receipt' });
    expect(codes(invoiceOf([gloves()]), context({ receipts: [] }))).toEqual(['NO_RECEIPT']);
  });

  it('flags an item not on the PO, a closed PO and a PO of another vendor', () => {
    const stapler = gloves({
      line_number: 2,
      description: 'Surgical skin stapler 35 wide',
      item_identifiers: ['SS-35W'],
    });
    expect(codes(invoiceOf([gloves(), stapler]))).toEqual(['ITEM_NOT_ON_PO']);
    expect(codes(invoiceOf([gloves()]), context({ po: makePo({ status: 'closed' }) }))).toEqual([
      'PO_CLOSED',
    ]);
    const r = run(invoiceOf([gloves()]), context({ po: makePo({ vendor_id: 'V-999' }) }));
    expect(r.reasons.map((x) => x.code)).toEqual(['PO_OTHER_VENDOR']);
    expect(r.billing).toBeNull();
  });

  it('aligns one invoice line to two PO lines of the same item, and two invoice lines to one PO line', () => {
    const po = makePo({
      lines: [makePo().lines[0]!, { ...makePo().lines[0]!, line_number: 3, quantity: 5 }],
    });
    const receipts = [
      ...makeReceipts(),
      { ...makeReceipts()[0]!, receipt_id: 'GR-3', po_line_number: 3, quantity: 5 },
    ];
    const both = run(invoiceOf([gloves({ quantity: 15, amount_cents: 61_800 })]), context({ po, receipts }));
    expect(both.reasons).toEqual([]);
    expect(both.summary!.lines[0]!.po_line_numbers).toEqual([1, 3]);
    expect(both.billing!.allocations.map((a) => [a.poLineNumber, a.baseQuantity])).toEqual([
      [1, 1000],
      [3, 500],
    ]);
    const split = run(
      invoiceOf([
        gloves({ quantity: 6, amount_cents: 24_720 }),
        gloves({ line_number: 2, quantity: 4, amount_cents: 16_480 }),
      ]),
    );
    expect(split.reasons).toEqual([]);
    expect(split.summary!.lines.map((l) => l.po_line_numbers)).toEqual([[1], [1]]);
  });
});

describe('procurement stage, lines of one invoice', () => {
  it('reports another item of an ordered family billed beside it as not on the PO, unless it shares confidently', () => {
    // A matcher that gives textured gloves without a part number `large` against the ordered
    // ones, above a permissive threshold of 0.01, and the identifier rule otherwise.
    const sized = (large: number): ProcurementMatcher => ({
      version: 'sized',
      score: (a, b) =>
        a.description.includes('textured')
          ? b.description.includes('gloves')
            ? large
            : 0
          : identifierRuleMatcher.score(a, b),
    });
    const large = gloves({
      line_number: 2,
      description: 'Nitrile exam gloves, textured',
      quantity: 2,
      amount_cents: 8_240,
    });
    delete large.item_identifiers;
    const tol = { ...DEFAULT_PROCUREMENT_TOLERANCES, matchThreshold: 0.01 };
    const inv = invoiceOf([gloves({ quantity: 8, amount_cents: 32_960 }), large]);
    const low = matchProcurement(inv, context(), sized(0.05), tol);
    expect(low.reasons.map((x) => [x.code, x.evidence.line_number])).toEqual([['ITEM_NOT_ON_PO', 2]]);
    expect(low.summary!.lines.map((l) => l.po_line_numbers)).toEqual([[1], []]);
    // At SHARE_MIN_SCORE it is a split line of the same item: billed against PO line 1.
    const shared = matchProcurement(inv, context(), sized(SHARE_MIN_SCORE), tol);
    expect(shared.reasons).toEqual([]);
    expect(shared.summary!.lines.map((l) => l.po_line_numbers)).toEqual([[1], [1]]);
  });

  it('never aligns another size, colour or French size, however high the matcher scores it', () => {
    // Sure of any two lines of one family (gloves with gloves, catheters with catheters).
    const glove = (d: string) => /glove/i.test(d);
    const fond: ProcurementMatcher = {
      version: 'fond',
      score: (a, b) => (glove(a.description) === glove(b.description) ? 0.9 : 0),
    };
    const tol = { ...DEFAULT_PROCUREMENT_TOLERANCES, matchThreshold: 0.01 };
    const large = gloves({ description: 'NITRILE EXAM GLOVES LG', item_identifiers: ['NI-L-100'] });
    const r = matchProcurement(invoiceOf([large]), context(), fond, tol);
    expect(r.reasons.map((x) => x.code)).toEqual(['ITEM_NOT_ON_PO']);
    expect(r.summary!.lines[0]!.po_line_numbers).toEqual([]);
    const foley = gloves({
      description: 'FOLEY CATH SILICONE 18FR 5CC',
      item_identifiers: [],
      uom: 'EA',
      quantity: 5,
      unit_price_cents: 1_850,
      amount_cents: 9_250,
    });
    const f = matchProcurement(invoiceOf([foley]), context(), fond, tol);
    expect(f.reasons.map((x) => x.code)).toEqual(['ITEM_NOT_ON_PO']);
    // The same words without a conflicting attribute are aligned (MED = medium, 5CC = 5 ml).
    const medium = gloves({ description: 'NITRILE EXAM GLOVES MED PF', item_identifiers: [] });
    expect(matchProcurement(invoiceOf([medium]), context(), fond, tol).reasons).toEqual([]);
  });

  it('aligns a line sharing an exact part number with a PO line whatever its score', () => {
    const shy: ProcurementMatcher = { version: 'shy', score: () => 0.001 };
    const tol = { ...DEFAULT_PROCUREMENT_TOLERANCES, matchThreshold: 0.01 };
    const r = matchProcurement(
      invoiceOf([gloves({ item_identifiers: ['0100071520'] })]),
      context(),
      shy,
      tol,
    );
    expect(r.reasons).toEqual([]);
    expect(r.summary!.lines[0]!.po_line_numbers).toEqual([1]);
    const none = matchProcurement(invoiceOf([gloves({ item_identifiers: [] })]), context(), shy, tol);
    expect(none.reasons.map((x) => x.code)).toEqual(['ITEM_NOT_ON_PO']);
  });

  it('names a count billed in another unit without conversion a unit error, beside the excess', () => {
    // 10 CS of 1 000 billed for 10 BX of 100 ordered and received: the count was not converted.
    const cs = gloves({
      uom: 'CS',
      pack_qty: 1_000,
      quantity: 10,
      unit_price_cents: 41_200,
      amount_cents: 412_000,
    });
    const r = run(invoiceOf([cs]));
    expect(r.reasons.map((x) => x.code)).toEqual(['QUANTITY_ABOVE_RECEIVED', 'UOM_MISMATCH']);
    expect(r.reasons[1]!.evidence).toMatchObject({ quantity_not_converted: true, billed_quantity: 10 });
    expect(r.summary!.lines[0]!.suggested).toMatchObject({ quantity: 1, uom: 'CS' });
    // 2 CS of 1 000 for 10 BX received is an excess in a converted count, not a unit error.
    const two = gloves({
      uom: 'CS',
      pack_qty: 1_000,
      quantity: 2,
      unit_price_cents: 41_200,
      amount_cents: 82_400,
    });
    expect(codes(invoiceOf([two]))).toEqual(['QUANTITY_ABOVE_RECEIVED']);
  });

  it('flags a PO citing a contract its facility is not eligible for, even when another contract prices the line', () => {
    const own = makeContract({ contract_id: 'GPO-7-T2', tier: 'T2', facilities: ['FAC-2'] });
    const lookup = context({ contracts: [makeContract(), own] });
    const po = makePo();
    po.lines[0]!.contract_id = 'GPO-7';
    const r = run(
      invoiceOf([gloves()], { facility_id: 'FAC-2' }),
      context({ po, contracts: [makeContract(), own] }),
    );
    expect(r.reasons.map((x) => x.code)).toEqual(['CONTRACT_FACILITY_NOT_ELIGIBLE']);
    expect(r.reasons[0]!.evidence).toMatchObject({ contract_id: 'GPO-7', facility_id: 'FAC-2' });
    expect(codes(invoiceOf([gloves()]), lookup)).toEqual([]);
  });

  it('sums two invoice lines billing one PO line against its receipt', () => {
    const r = run(
      invoiceOf([
        gloves({ quantity: 6, amount_cents: 24_720 }),
        gloves({ line_number: 2, quantity: 8, amount_cents: 32_960 }),
      ]),
    );
    expect(r.reasons.map((x) => [x.code, x.evidence.line_number])).toEqual([['QUANTITY_ABOVE_RECEIVED', 2]]);
  });
});

describe('procurement stage, unmatched invoices get a reason', () => {
  it('reports a line citing a PO line the PO lacks as not on the PO, without matching it elsewhere', () => {
    // The identifiers match PO line 1, but the line cites line 7.
    const r = run(invoiceOf([gloves({ po_line_number: 7 })]));
    expect(r.reasons.map((x) => x.code)).toEqual(['ITEM_NOT_ON_PO']);
    expect(r.reasons[0]!.evidence).toMatchObject({ cited_po_line_number: 7, po_number: 'PO-1001' });
    expect(r.summary!.lines[0]!.po_line_numbers).toEqual([]);
    expect(r.billing).toBeNull();
    // A cited line the PO has still wins.
    expect(codes(invoiceOf([gloves({ po_line_number: 1 })]))).toEqual([]);
  });

  it('puts the whole amount at risk for an unknown PO and an ambiguous choice', () => {
    const inv = invoiceOf([gloves()]);
    const unknown = run(inv, { kind: 'po_unknown', poNumber: 'PO-404', vendorHasPos: true });
    expect(unknown.reasons.map((x) => x.code)).toEqual(['PO_UNKNOWN']);
    expect(unknown.amountAtRiskCents).toBe(41_200);
    // A vendor without POs loaded keeps the non-PO path unless the policy scopes PO_UNKNOWN to the tenant.
    const notSynced = { kind: 'po_unknown', poNumber: 'PO-404', vendorHasPos: false } as const;
    expect(run(inv, notSynced).reasons).toEqual([]);
    const tenantWide = { ...DEFAULT_PROCUREMENT_TOLERANCES, unknownPo: 'tenant' as const };
    expect(
      matchProcurement(inv, notSynced, identifierRuleMatcher, tenantWide).reasons.map((x) => x.code),
    ).toEqual(['PO_UNKNOWN']);
    const candidates = [
      { po_number: 'PO-A', score: 0.95 },
      { po_number: 'PO-B', score: 0.9 },
    ];
    const amb = run(invoiceOf([gloves()], { po_number: undefined }), { kind: 'po_ambiguous', candidates });
    expect(amb.reasons.map((x) => x.code)).toEqual(['PO_AMBIGUOUS']);
    expect(amb.reasons[0]!.evidence).toMatchObject({ candidates });
    expect(amb.amountAtRiskCents).toBe(41_200);
  });

  it('chooses the open PO whose lines clearly match, else none', () => {
    const mine = makePo({ po_number: 'PO-G' });
    const other = makePo({
      po_number: 'PO-S',
      lines: [{ ...makePo().lines[1]!, line_number: 1 }],
    });
    const clear = choosePo([gloves()], [other, mine], identifierRuleMatcher, DEFAULT_MATCH_THRESHOLD);
    expect(clear.chosen?.po_number).toBe('PO-G');
    expect(clear.candidates.map((c) => c.po_number)).toEqual(['PO-G', 'PO-S']);
    const twin = makePo({ po_number: 'PO-G2' });
    const tie = choosePo([gloves()], [mine, twin], identifierRuleMatcher, DEFAULT_MATCH_THRESHOLD);
    expect(tie.chosen).toBeNull();
    expect(tie.candidates.map((c) => c.score)).toEqual([0.95, 0.95]);
  });
});

describe('procurement stage, priority of held invoices', () => {
  it('puts the unreceived amount at risk for NO_RECEIPT', () => {
    const r = run(invoiceOf([gloves()]), context({ receipts: [] }));
    expect(r.reasons.map((x) => x.code)).toEqual(['NO_RECEIPT']);
    expect(r.reasons[0]!.evidence).toMatchObject({ unreceived_cents: 41_200 });
    expect(r.amountAtRiskCents).toBe(41_200);
    expect(r.summary!.amount_at_risk_cents).toBe(41_200);
  });
});

describe('procurement stage, credit memos', () => {
  const credit = (lines: InvoiceLine[], over: Partial<Invoice> = {}) =>
    invoiceOf(lines, { document_type: 'credit_memo', invoice_id: 'cm-1', ...over });
  const billed = context({
    invoiced: new Map([[1, { baseQuantity: 600, amountCents: 24_720, invoiceIds: ['a'] }]]),
  });

  it('gives back the credited quantity of a PO line billed before, with no reason', () => {
    const r = run(credit([gloves({ quantity: -2, amount_cents: -8_240 })]), billed);
    expect(r.reasons).toEqual([]);
    expect(r.summary).toBeNull();
    expect(r.billing).toEqual({
      poNumber: 'PO-1001',
      allocations: [{ poLineNumber: 1, baseQuantity: -200, amountCents: -8_240 }],
    });
  });

  it('never gives back more than was billed, nor for a PO of another vendor or not cited', () => {
    const r = run(credit([gloves({ quantity: -9, amount_cents: -37_080 })]), billed);
    expect(r.billing!.allocations).toEqual([{ poLineNumber: 1, baseQuantity: -600, amountCents: -24_720 }]);
    expect(run(credit([gloves({ quantity: -2, amount_cents: -8_240 })])).billing).toBeNull();
    const foreign = context({
      po: makePo({ vendor_id: 'V-999' }),
      invoiced: billed.kind === 'context' ? billed.context.invoiced : new Map(),
    });
    expect(run(credit([gloves({ quantity: -2, amount_cents: -8_240 })]), foreign).billing).toBeNull();
    const onlyOpen = context({
      chosenBy: 'only_open_po',
      invoiced: billed.kind === 'context' ? billed.context.invoiced : new Map(),
    });
    expect(run(credit([gloves({ quantity: -2, amount_cents: -8_240 })]), onlyOpen).billing).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkInvoiceRules,
  checkStrings,
  validateInvoice,
  vendorIdErrors,
  VENDOR_ID_DOT_SEGMENT,
  VENDOR_ID_CONTROL,
  VENDOR_ID_EDGES,
  VENDOR_ID_INVISIBLE,
  TEXT_REORDERING,
} from './validate.js';
import { isTriageError, type FieldError, type TriageError } from './errors.js';
import { makeInvoice } from '../test/fixtures.js';
import { MAX_ABS_CENTS, MIN_ABS_QUANTITY } from './invoice.js';

function errorsOf(value: unknown): TriageError {
  try {
    validateInvoice(value);
  } catch (e) {
    if (isTriageError(e)) return e;
    throw e;
  }
  throw new Error('expected a validation error');
}

describe('validateInvoice', () => {
  it('accepts a valid invoice unchanged', () => {
    const inv = makeInvoice();
    expect(validateInvoice(inv)).toBe(inv);
  });

  it('refuses a line unit of measure outside the unit table, naming the line; accepts its spellings', () => {
    const inv = makeInvoice();
    const line = inv.lines[0]!;
    const e = errorsOf({ ...inv, lines: [line, { ...line, line_number: 2, uom: 'BOXES' }] });
    expect(e).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/lines/1/uom');
    expect(e.errors).toEqual([
      {
        path: '/lines/1/uom',
        message: 'unit of measure BOXES is not in the unit table (EA, BX, CS, PK, ...)',
      },
    ]);
    for (const uom of ['EA', 'bx', 'Box', 'EACH', 'CTN', 'DOZEN', 'VIAL', 'ML', 'lb', 'mg'])
      expect(validateInvoice({ ...inv, lines: [{ ...line, uom }] }).lines[0]!.uom).toBe(uom);
  });

  it('names every bad field with a JSON pointer', () => {
    const bad = {
      ...makeInvoice(),
      currency: 'usd',
      total_cents: 12.5,
      invoice_date: '2025-02-30',
      colour: 'red',
    };
    const e = errorsOf(bad);
    expect(e.code).toBe('TRIAGE_INPUT_INVALID');
    expect(e.status).toBe(400);
    const paths = e.errors.map((x) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['/currency', '/total_cents', '/invoice_date', '/colour']));
  });

  it('names missing required fields, nested ones included', () => {
    const inv = makeInvoice();
    const { name: _n, ...vendor } = inv.vendor;
    const e = errorsOf({ ...inv, vendor, lines: [{ ...inv.lines[0], quantity: undefined }] });
    const paths = e.errors.map((x) => x.path);
    expect(paths).toContain('/vendor/name');
    expect(paths).toContain('/lines/0/quantity');
  });

  it('rejects an empty line list and non-objects', () => {
    expect(errorsOf({ ...makeInvoice(), lines: [] }).errors.map((x) => x.path)).toContain('/lines');
    expect(errorsOf(null).code).toBe('TRIAGE_INPUT_INVALID');
    expect(errorsOf('invoice').code).toBe('TRIAGE_INPUT_INVALID');
  });

  it('refuses a line whose quantity x unit price exceeds the money limit, naming unit_price_cents', () => {
    const inv = makeInvoice();
    inv.lines[1] = { ...inv.lines[1]!, quantity: 1_000_000, unit_price_cents: 10_000_000_000_000 };
    expect(errorsOf(inv).errors.map((x) => x.path)).toEqual(['/lines/1/unit_price_cents']);
    inv.lines[1] = { ...inv.lines[1], quantity: -1_000_000, unit_price_cents: 10_000_000 };
    expect(validateInvoice(inv)).toBe(inv);
    inv.lines[1] = { ...inv.lines[1], quantity: -1_000_000, unit_price_cents: 10_000_001 };
    expect(errorsOf(inv).errors.map((x) => x.path)).toEqual(['/lines/1/unit_price_cents']);
  });

  it('refuses lines whose |amounts| sum beyond the money limit, naming /lines; accepts the sum at it', () => {
    const inv = makeInvoice();
    const line = inv.lines[0]!;
    const lines = (amount: number) =>
      [1, 2, 3].map((n) => ({
        ...line,
        line_number: n,
        quantity: 1,
        unit_price_cents: amount,
        amount_cents: amount,
      }));
    const e = errorsOf({ ...inv, lines: lines(9_000_000_000_000), total_cents: 9_000_000_000_000 });
    expect(e).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/lines');
    expect(e.errors).toEqual([
      { path: '/lines', message: 'the sum of |amount_cents| must be within 10000000000000 cents' },
    ]);
    const third = Math.floor(MAX_ABS_CENTS / 3);
    expect(validateInvoice({ ...inv, lines: lines(third), total_cents: 3 * third }).lines).toHaveLength(3);
  });

  it('refuses a non-zero quantity below MIN_ABS_QUANTITY in absolute value, naming it; accepts 0 and the minimum', () => {
    const inv = makeInvoice();
    const at = (quantity: number) => ({
      ...inv,
      lines: [{ ...inv.lines[0]!, quantity }, ...inv.lines.slice(1)],
    });
    for (const q of [1e-300, -1e-300, 5e-7, Number.MIN_VALUE]) {
      const e = errorsOf(at(q));
      expect(e.errors, String(q)).toEqual([
        { path: '/lines/0/quantity', message: 'must be 0 or at least 0.000001 in absolute value' },
      ]);
    }
    expect(MIN_ABS_QUANTITY).toBe(1e-6);
    for (const q of [0, 1e-6, -1e-6, 0.001]) expect(validateInvoice(at(q)).lines[0]!.quantity).toBe(q);
  });

  it('applies cross-field rules: duplicate line numbers, period order, due date', () => {
    const inv = makeInvoice({
      service_period: { start: '2025-03-31', end: '2025-03-01' },
      due_date: '2025-02-01',
    });
    inv.lines[1]!.line_number = 1;
    const paths = errorsOf(inv).errors.map((x) => x.path);
    expect(paths).toEqual(['/lines/1/line_number', '/service_period/end', '/due_date']);
  });

  it('refuses a tax amount against the sign of the document, naming tax_cents', () => {
    const inv = makeInvoice({ tax_cents: -1 });
    expect(errorsOf(inv).errors).toEqual([
      { path: '/tax_cents', message: 'must not be negative on an invoice' },
    ]);
    expect(errorsOf({ ...inv, document_type: 'debit_memo' }).errors.map((x) => x.path)).toEqual([
      '/tax_cents',
    ]);
    const base = makeInvoice();
    const credit = makeInvoice({
      document_type: 'credit_memo',
      tax_cents: 150,
      total_cents: -base.total_cents + 150,
      lines: base.lines.map((l) => ({ ...l, quantity: -l.quantity, amount_cents: -l.amount_cents })),
    });
    expect(errorsOf(credit).errors).toEqual([
      { path: '/tax_cents', message: 'must not be positive on a credit memo' },
    ]);
    expect(validateInvoice({ ...credit, tax_cents: -150 })).toMatchObject({ tax_cents: -150 });
    expect(validateInvoice({ ...inv, tax_cents: 0 })).toMatchObject({ tax_cents: 0 });
  });

  it('refuses a credit memo with a positive total or line amount, as its positive tax', () => {
    const credit = makeInvoice({
      document_type: 'credit_memo',
      total_cents: 500_000,
      lines: [
        {
          line_number: 1,
          description: 'Gauze',
          quantity: 500,
          unit_price_cents: 1000,
          amount_cents: 500_000,
        },
      ],
    });
    const e = errorsOf(credit);
    expect(e).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/total_cents');
    expect(e.errors).toEqual([
      { path: '/total_cents', message: 'must not be positive on a credit memo' },
      { path: '/lines/0/amount_cents', message: 'must not be positive on a credit memo' },
    ]);
    const negated = {
      ...credit,
      total_cents: -500_000,
      lines: [{ ...credit.lines[0]!, quantity: -500, amount_cents: -500_000 }],
    };
    expect(validateInvoice(negated)).toBe(negated);
    // An invoice keeps its negative total and allowance lines (routed to AP review, not refused).
    const allowance = makeInvoice({ total_cents: -100 });
    allowance.lines = [{ ...allowance.lines[0]!, quantity: -1, unit_price_cents: 100, amount_cents: -100 }];
    expect(validateInvoice(allowance)).toBe(allowance);
  });

  it('rejects money beyond the safe range and malformed NPIs', () => {
    const e = errorsOf({ ...makeInvoice(), total_cents: 1e16, vendor: { id: 'v', name: 'n', npi: '12345' } });
    expect(e.errors.map((x) => x.path)).toEqual(expect.arrayContaining(['/total_cents', '/vendor/npi']));
  });
});

describe('validateInvoice: storable text, dates, currency, enums', () => {
  it('refuses NUL characters and lone surrogates, naming the field', () => {
    const inv = makeInvoice();
    inv.lines[0]!.description = 'Wheel\u0000chair';
    inv.vendor.name = 'Acme \ud800';
    const e = errorsOf(inv);
    expect(e.errors).toEqual([
      { path: '/vendor/name', message: 'contains an unpaired surrogate (invalid Unicode)' },
      { path: '/lines/0/description', message: 'contains a NUL character' },
    ]);
  });

  it('names every unstorable string below valid siblings, in property names and nested arrays, up to the cap', () => {
    const value = {
      ok: ['a', { b: 'c' }],
      deep: [{ x: ['fine', 'bad\u0000'] }, 'also fine', ['\udc00']],
      ['key\u0000']: 'value',
      ['\ud800k']: { inner: 'z\u0000' },
      n: 3,
      nil: null,
    };
    const errors: FieldError[] = [];
    checkStrings(value, '', errors);
    expect(errors).toEqual([
      { path: '/deep/0/x/1', message: 'contains a NUL character' },
      { path: '/deep/2/0', message: 'contains an unpaired surrogate (invalid Unicode)' },
      { path: '/key\\u0000', message: 'property name contains a NUL character' },
      { path: '/\\ud800k', message: 'property name contains an unpaired surrogate (invalid Unicode)' },
      { path: '/\\ud800k/inner', message: 'contains a NUL character' },
    ]);
    const capped: FieldError[] = [];
    checkStrings(value, '/body', capped, 2);
    expect(capped.map((e) => e.path)).toEqual(['/body/deep/0/x/1', '/body/deep/2/0']);
    const onlyName: FieldError[] = [];
    checkStrings({ a: 'b', list: [{ ['c\u0000']: 'd' }] }, '', onlyName);
    expect(onlyName).toEqual([
      { path: '/list/0/c\\u0000', message: 'property name contains a NUL character' },
    ]);
    const none: FieldError[] = [];
    checkStrings({ a: ['b', { c: 'd' }], e: 1 }, '', none);
    expect(none).toEqual([]);
  });

  it('names C0, DEL and C1 control characters other than tab, line feed and carriage return, escaped', () => {
    const errors: FieldError[] = [];
    checkStrings(
      {
        ok: 'tab\there\r\nline',
        bel: 'ring\u0007',
        esc: ['\u001b[2J'],
        ['k\u0008']: 'v',
        del: 'x\u007f',
        csi: '\u009b2J',
        nbsp: 'a\u00a0b',
      },
      '',
      errors,
    );
    const only = 'only tab, line feed and carriage return are allowed';
    expect(errors).toEqual([
      { path: '/bel', message: `contains the control character \\u0007: ${only}` },
      { path: '/esc/0', message: `contains the control character \\u001b: ${only}` },
      { path: '/k\\u0008', message: `property name contains the control character \\u0008: ${only}` },
      { path: '/del', message: `contains the control character \\u007f: ${only}` },
      { path: '/csi', message: `contains the control character \\u009b: ${only}` },
    ]);
  });

  it('accepts emoji, RTL marks and other well-formed text', () => {
    expect(() => validateInvoice(makeInvoice({ invoice_number: 'INV-🦽\u200f1' }))).not.toThrow();
  });

  it('refuses dates outside 1900..2199, unknown currencies and numbers without letters or digits', () => {
    const e = errorsOf(
      makeInvoice({
        invoice_date: '0000-01-01',
        due_date: undefined,
        currency: 'XYZ',
        invoice_number: '///',
      }),
    );
    expect(e.errors).toEqual(
      expect.arrayContaining([
        { path: '/invoice_date', message: 'must be between 1900-01-01 and 2199-12-31' },
        {
          path: '/currency',
          message:
            '(XYZ) is not an active ISO 4217 currency code (list one of 2024-06-25; withdrawn codes such as DEM are refused)',
        },
        {
          path: '/invoice_number',
          message:
            'must contain at least one ASCII letter or digit (A-Z, a-z, 0-9), full-width forms included (NFKC)',
        },
      ]),
    );
  });

  it('accepts active ISO 4217 codes with a minor unit (list one), refuses metals, test codes and withdrawn ones', () => {
    // The runtime's Intl list (the check before) refused CLF and UYW and accepted the Deutsche Mark.
    for (const currency of ['USD', 'JPY', 'KWD', 'CLF', 'UYW', 'XAF', 'XCD'])
      expect(() => validateInvoice(makeInvoice({ currency })), currency).not.toThrow();
    for (const [currency, why] of [
      ['XAU', 'is an ISO 4217 code without a minor unit'],
      ['XTS', 'is an ISO 4217 code without a minor unit'],
      ['XDR', 'is an ISO 4217 code without a minor unit'],
      ['DEM', 'is not an active ISO 4217 currency code'],
      ['HRK', 'is not an active ISO 4217 currency code'],
    ] as const)
      expect(errorsOf(makeInvoice({ currency })).errors, currency).toEqual([
        { path: '/currency', message: expect.stringContaining(`(${currency}) ${why}`) },
      ]);
  });

  it('refuses a received_date outside 1900..2199 like the other dates', () => {
    for (const received_date of ['0001-01-01', '9999-12-31']) {
      expect(errorsOf(makeInvoice({ received_date })).errors).toEqual([
        { path: '/received_date', message: 'must be between 1900-01-01 and 2199-12-31' },
      ]);
    }
    expect(() => validateInvoice(makeInvoice({ received_date: '2199-12-31' }))).not.toThrow();
  });

  it('refuses a received_date before the invoice_date, naming /received_date', () => {
    expect(errorsOf(makeInvoice({ received_date: '1900-01-01' })).errors).toEqual([
      { path: '/received_date', message: 'must not be before invoice_date' },
    ]);
    expect(() => validateInvoice(makeInvoice({ received_date: '2025-03-01' }))).not.toThrow();
    expect(() => validateInvoice(makeInvoice({ received_date: '2025-03-04' }))).not.toThrow();
  });

  it("refuses a received_date after the service's today plus one day, given today", () => {
    const inv = makeInvoice({
      invoice_date: '2026-01-10',
      due_date: '2026-02-09',
      received_date: '2026-01-12',
    });
    expect(checkInvoiceRules(inv, '2026-01-11')).toEqual([]);
    expect(checkInvoiceRules(inv, '2026-01-10')).toEqual([
      { path: '/received_date', message: "must not be after 2026-01-11 (the service's today plus one day)" },
    ]);
    expect(checkInvoiceRules({ ...inv, received_date: '2199-12-31' }, '2026-12-31')).toEqual([
      { path: '/received_date', message: "must not be after 2027-01-01 (the service's today plus one day)" },
    ]);
    expect(checkInvoiceRules({ ...inv, received_date: '2199-12-31' })).toEqual([]);
  });

  it('refuses, given today, an invoice_date after today plus one day when received_date defaults to today', () => {
    const { received_date: _, ...inv } = makeInvoice({ invoice_date: '2199-12-31', due_date: '2199-12-31' });
    expect(checkInvoiceRules(inv, '2026-12-06')).toEqual([
      {
        path: '/invoice_date',
        message:
          "must not be after 2026-12-07 (the service's today plus one day): received_date defaults to today and must not be before invoice_date",
      },
    ]);
    // As the explicit received date of today is refused.
    expect(checkInvoiceRules({ ...inv, received_date: '2026-12-06' }, '2026-12-06')).toEqual([
      { path: '/received_date', message: 'must not be before invoice_date' },
    ]);
    expect(
      checkInvoiceRules({ ...inv, invoice_date: '2026-12-07', due_date: '2026-12-07' }, '2026-12-06'),
    ).toEqual([]);
    expect(checkInvoiceRules(inv)).toEqual([]);
  });

  it('refuses blank required text (spaces, zero-width characters), naming each field', () => {
    const inv = makeInvoice();
    inv.vendor.name = '\u200b';
    inv.vendor.id = ' \ufeff';
    inv.lines[1]!.description = '   \t';
    expect(errorsOf(inv).errors).toEqual([
      { path: '/vendor/id', message: 'must not be blank (only spaces or invisible characters)' },
      { path: '/vendor/name', message: 'must not be blank (only spaces or invisible characters)' },
      { path: '/lines/1/description', message: 'must not be blank (only spaces or invisible characters)' },
    ]);
    for (const blank of ['\u034f\ufe0f', '\u3164\u115f', '\u2800', '\u00ad\u180e', '\uffa0']) {
      inv.lines[1]!.description = blank;
      expect(errorsOf(inv).errors).toContainEqual({
        path: '/lines/1/description',
        message: 'must not be blank (only spaces or invisible characters)',
      });
    }
    inv.vendor.name = ' \u200bÄ ';
    inv.vendor.id = 'V-1';
    inv.lines[1]!.description = '🦽';
    expect(() => validateInvoice(inv)).not.toThrow();
  });

  it('accepts an invoice number whose letters or digits are full-width (NFKC), refuses one without any', () => {
    for (const number of ['ＩＮＶ－００１２３', 'ＡＢ１', '№１２', 'INV-00123'])
      expect(checkInvoiceRules(makeInvoice({ invoice_number: number })), number).toEqual([]);
    const refused = {
      path: '/invoice_number',
      message:
        'must contain at least one ASCII letter or digit (A-Z, a-z, 0-9), full-width forms included (NFKC)',
    };
    for (const number of ['－／＃', '\u3000\u3000', 'ÄÖ', '請求書'])
      expect(errorsOf(makeInvoice({ invoice_number: number })).errors, JSON.stringify(number)).toEqual([
        refused,
      ]);
    // Control characters only: refused as control characters too.
    expect(errorsOf(makeInvoice({ invoice_number: '\u0007\u001b' })).errors).toEqual([
      {
        path: '/invoice_number',
        message:
          'contains the control character \\u0007: only tab, line feed and carriage return are allowed',
      },
      refused,
    ]);
  });

  it('lists the allowed values of an enum once', () => {
    const e = errorsOf({ ...makeInvoice(), document_type: 'INVOICE' });
    expect(e.errors).toEqual([
      { path: '/document_type', message: 'must be one of: invoice, credit_memo, debit_memo' },
    ]);
  });
});

describe('vendor ids: one rule for invoices and the vendor routes', () => {
  it('refuses white space or invisible characters at either end and control characters, naming the field', () => {
    const cases: [string, string[]][] = [
      ['V-100\n', [VENDOR_ID_CONTROL, VENDOR_ID_EDGES]],
      [' V-100 ', [VENDOR_ID_EDGES]],
      ['V-100\u200b', [VENDOR_ID_EDGES]],
      ['V-\t100', [VENDOR_ID_CONTROL]],
      // Look-alikes of V-100: a zero-width joiner, a right-to-left override, a word joiner, a variation selector.
      ['V-\u200d100', [VENDOR_ID_INVISIBLE]],
      ['V-\u202e001', [VENDOR_ID_INVISIBLE]],
      ['V\u2060-100', [VENDOR_ID_INVISIBLE]],
      ['V-1\ufe0f00', [VENDOR_ID_INVISIBLE]],
      [
        'V-\u0085100',
        ['contains the control character \\u0085: only tab, line feed and carriage return are allowed'],
      ],
    ];
    for (const [id, messages] of cases) {
      const e = errorsOf({ ...makeInvoice(), vendor: { id, name: 'Acme Medical' } });
      expect(e.errors, JSON.stringify(id)).toEqual(
        messages.map((message) => ({ path: '/vendor/id', message })),
      );
      expect(vendorIdErrors('/params/vendor_id', id)).toEqual(
        messages.map((message) => ({ path: '/params/vendor_id', message })),
      );
    }
    for (const id of ['.', '..']) {
      expect(errorsOf({ ...makeInvoice(), vendor: { id, name: 'Acme Medical' } }).errors).toEqual([
        { path: '/vendor/id', message: VENDOR_ID_DOT_SEGMENT },
      ]);
      expect(vendorIdErrors('/params/vendor_id', id)).toEqual([
        { path: '/params/vendor_id', message: VENDOR_ID_DOT_SEGMENT },
      ]);
    }
    for (const id of ['V-100', 'V 100', 'Ü-100', '供应商-7', 'ACME/EAST 01', '../../x', 'a\\b', '...'])
      expect(validateInvoice({ ...makeInvoice(), vendor: { id, name: 'Acme Medical' } }).vendor.id).toBe(id);
  });
});

describe('text a reviewer reads: no bidirectional reordering controls (one rule)', () => {
  it('refuses embedding, override and isolate controls in every invoice text, keeping other format characters', () => {
    const inv = makeInvoice();
    const line = inv.lines[0]!;
    const bad = {
      ...inv,
      vendor: { ...inv.vendor, name: 'Acme \u202eseilppuS' }, // shown as "Acme Supplies"
      invoice_number: 'INV-\u2066123\u2069',
      po_number: 'PO-\u202d7',
      lines: [{ ...line, description: 'Oxygen \u202bconcentrator' }, ...inv.lines.slice(1)],
    };
    expect(errorsOf(bad).errors).toEqual([
      { path: '/vendor/name', message: TEXT_REORDERING },
      { path: '/invoice_number', message: TEXT_REORDERING },
      { path: '/po_number', message: TEXT_REORDERING },
      { path: '/lines/0/description', message: TEXT_REORDERING },
    ]);
    // Joiners, direction marks, soft hyphens and zero-width spaces reorder nothing: kept as sent.
    const kept = {
      ...inv,
      vendor: { ...inv.vendor, name: 'دارو\u200cپخش \u200fMedical' },
      lines: [{ ...line, description: 'Oxy\u00adgen con\u200bcentrator 👩\u200d⚕️' }, ...inv.lines.slice(1)],
    };
    const read = validateInvoice(kept);
    expect(read.vendor.name).toBe(kept.vendor.name);
    expect(read.lines[0]!.description).toBe(kept.lines[0]!.description);
  });
});

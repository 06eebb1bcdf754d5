/**
 * The CLI's JSON readers (`score` and `import` JSONL, `erp load` JSON and JSONL) refuse a number
 * written with a fraction or an exponent where the schema declares an integer (`"unit_price_cents":
 * 12.50`, `2.15e4`), naming the line and the field's pointer, as the API does: `JSON.parse` alone
 * reads `1500.00` as the integer 1500. The record is reported, the others are read.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import { makeInvoice } from '../test/fixtures.js';
import { makePo } from '../test/erp-fixtures.js';
import { scoreFile } from './cli.js';
import { readErpFile } from './erp-file.js';
import { importFiles } from './import.js';
import { readInvoiceFile } from './invoice-file.js';

const CENTS = 'is in cents and must be written as an integer numeral (e.g. 1250, not 12.50 or 1.25e3)';

const dir = mkdtempSync(join(tmpdir(), 'triage-numerals-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/**
 * A JSONL file of three invoices: line 2 bills its second line's unit price and amount as
 * `1500.00` and `1.5e3`; line 3 is a credit memo (-215 cents) with a quantity of 2.5 units.
 */
function invoicesFile(): string {
  const good = makeInvoice({ invoice_id: 'f-1', invoice_number: 'F-1' });
  const bad = JSON.stringify(makeInvoice({ invoice_id: 'f-2', invoice_number: 'F-2' }))
    .replace('"unit_price_cents":1500', '"unit_price_cents":1500.00')
    .replace('"amount_cents":1500', '"amount_cents":1.5e3');
  const credit = makeInvoice({
    invoice_id: 'f-3',
    invoice_number: 'F-3',
    document_type: 'credit_memo',
    total_cents: -215,
    lines: [
      { line_number: 1, description: 'Gauze', quantity: -2.5, unit_price_cents: 86, amount_cents: -215 },
    ],
  });
  return file('in.jsonl', [JSON.stringify(good), bad, JSON.stringify(credit)].join('\n'));
}

const BAD_LINE = `/lines/1/unit_price_cents ${CENTS}; /lines/1/amount_cents ${CENTS}`;

describe('CLI JSON readers and integer numerals', () => {
  it('JSONL: the record is not read, its fields named; the others are', () => {
    const recs = readInvoiceFile(invoicesFile());
    expect(recs.map((r) => [r.location, r.parseError])).toEqual([
      ['line 1', undefined],
      ['line 2', BAD_LINE],
      ['line 3', undefined],
    ]);
    expect(recs[1]!.value).toBeNull();
    expect((recs[2]!.value as { total_cents: number }).total_cents).toBe(-215);
  });

  it('score reports the line and fields and scores the others', async () => {
    const path = invoicesFile();
    const s = await scoreFile(path, { store: { engine: 'pglite' }, models: null });
    expect(s).toMatchObject({ invoices: 3, scored: 2 });
    expect(s.invalid).toEqual([{ location: `${path} line 2`, errors: [BAD_LINE] }]);
  }, 180_000);

  it('import reports the line and fields and imports the others', async () => {
    const path = invoicesFile();
    const r = await importFiles([path], {
      store: {
        engine: 'pglite',
        dataDir: join(mkdtempSync(join(tmpdir(), 'triage-numerals-db-')), 'pglite'),
      },
      workers: 0,
    });
    expect(r.imported).toBe(2);
    expect(r.invalid).toEqual([
      {
        location: `${path} line 2`,
        errors: [`/lines/1/unit_price_cents ${CENTS}`, `/lines/1/amount_cents ${CENTS}`],
      },
    ]);
  }, 180_000);

  it('erp load: a JSON load or a JSONL record is refused naming the field', () => {
    const po = JSON.stringify(makePo()).replace(/"unit_price_cents":(\d+)/, '"unit_price_cents":$1.00');
    expect(po).toMatch(/"unit_price_cents":\d+\.00/);
    const refusal = (path: string): string => {
      try {
        readErpFile(path);
      } catch (e) {
        expect(isTriageError(e, 'TRIAGE_FILE_INVALID')).toBe(true);
        return (e as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(file('load.json', `{"purchase_orders":[${po}]}`))).toBe(
      `load.json /purchase_orders/0/lines/0/unit_price_cents: ${CENTS}`,
    );
    expect(refusal(file('load.jsonl', `{"type":"purchase_order",${po.slice(1)}`))).toBe(
      `load.jsonl line 1/lines/0/unit_price_cents: ${CENTS}`,
    );
    // Written as integers, the same records load.
    expect(
      readErpFile(file('ok.json', `{"purchase_orders":[${po.replace('.00', '')}]}`)).purchase_orders,
    ).toEqual([makePo()]);
  });
});

/**
 * The sample CSV (`datasets/samples/hcpcs_invoices.csv`, the CSV format of `npm run cli --
 * score`): it holds the first five invoices of `hcpcs_invoices.jsonl`, field for field, and the
 * CLI scores all of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreFile } from '../bin/cli.js';
import { readInvoiceFile } from '../bin/invoice-file.js';
import { packageRoot } from '../core/paths.js';

const root = packageRoot();
const samples = join(root, 'datasets', 'samples');
const csvFile = join(samples, 'hcpcs_invoices.csv');

describe('datasets/samples/hcpcs_invoices.csv', () => {
  it('holds the first five invoices of hcpcs_invoices.jsonl, money in integer cents', () => {
    const fromCsv = readInvoiceFile(csvFile).map((r) => r.value);
    const fromJsonl = readFileSync(join(samples, 'hcpcs_invoices.jsonl'), 'utf8')
      .split('\n')
      .slice(0, 5)
      .map((l) => JSON.parse(l) as unknown);
    expect(fromCsv).toEqual(fromJsonl);
    const header = readFileSync(csvFile, 'utf8').split('\n')[0]!.split(',');
    expect(header).toContain('unit_price_cents');
    expect(header).toContain('total_cents');
  });

  it('is scored by the CLI (score command): five invoices, none invalid', async () => {
    // The heuristic scorers: this test is about the file format, not the models' scores.
    const s = await scoreFile(csvFile, { store: { engine: 'pglite' }, models: null });
    expect(s).toMatchObject({ invoices: 5, scored: 5, replayed: 0, invalid: [] });
    expect(Object.values(s.decisions).reduce((a, b) => a + b, 0)).toBe(5);
  }, 180_000);
});

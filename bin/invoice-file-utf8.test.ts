/**
 * The CLI's JSONL and CSV readers (`score`, `import`) decode strictly as UTF-8 (core/utf8.ts): a
 * line holding a byte that is not UTF-8 is reported with its line and byte, its record (a CSV
 * invoice with all its rows) is skipped, and the other records are read. A replacing decoder had
 * scored and imported such text with U+FFFD (the trial's finding).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import { makeInvoice } from '../test/fixtures.js';
import { scoreFile } from './cli.js';
import { importFiles } from './import.js';
import { readInvoiceFile } from './invoice-file.js';

/** `lines` joined as a file, with the byte 0xe9 (Latin-1 'é', not UTF-8 alone) for each `\u00e9` on line `bad`. */
function fileWithLatin1(name: string, lines: string[], bad: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'triage-utf8-')), name);
  const bytes = lines.map((l, i) => (i + 1 === bad ? Buffer.from(l, 'latin1') : Buffer.from(l, 'utf8')));
  writeFileSync(path, Buffer.concat(bytes.flatMap((b) => [b, Buffer.from('\n')])));
  return path;
}

const jsonl = (bad: number): string =>
  fileWithLatin1(
    'in.jsonl',
    [1, 2, 3, 4, 5].map((n) =>
      JSON.stringify(
        makeInvoice({
          invoice_id: `u-${n}`,
          invoice_number: `U-${n}`,
          vendor: { id: 'V-1', name: n === 4 ? 'G\u00e9seous Supply' : 'Médical Supply' },
        }),
      ),
    ),
    bad,
  );

describe('CLI files decoded strictly as UTF-8', () => {
  it('JSONL: names the line and byte, skips that record, reads the others as sent', () => {
    const path = jsonl(4);
    const recs = readInvoiceFile(path);
    expect(recs.map((r) => r.location)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    const bad = recs[3]!;
    expect(bad.value).toBeNull();
    expect(bad.parseError).toMatch(/^byte \d+ of the line \(0xe9\) is not UTF-8; the record is not read$/);
    const at = Number(/^byte (\d+)/.exec(bad.parseError!)![1]);
    const line4 = JSON.stringify(
      makeInvoice({
        invoice_id: 'u-4',
        invoice_number: 'U-4',
        vendor: { id: 'V-1', name: 'G\u00e9seous Supply' },
      }),
    );
    expect(at).toBe(line4.indexOf('\u00e9'));
    expect(JSON.stringify(recs.map((r) => r.value))).not.toContain('\uFFFD');
    expect((recs[0]!.value as { vendor: { name: string } }).vendor.name).toBe('Médical Supply');
  });

  it('JSONL: a leading byte-order mark and CRLF line ends are read, the first record included', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'triage-bom-')), 'in.jsonl');
    const invs = [1, 2].map((n) => makeInvoice({ invoice_id: `b-${n}`, invoice_number: `B-${n}` }));
    writeFileSync(path, `\uFEFF${invs.map((i) => JSON.stringify(i)).join('\r\n')}\r\n`);
    const recs = readInvoiceFile(path);
    expect(recs.map((r) => [r.location, r.parseError])).toEqual([
      ['line 1', undefined],
      ['line 2', undefined],
    ]);
    expect(recs.map((r) => r.value)).toEqual(invs);
  });

  it('CSV: skips the invoice whose row holds the byte (all its rows), naming line and byte', () => {
    const header =
      'invoice_id,vendor_id,vendor_name,invoice_number,invoice_date,currency,total_cents,line_number,description,quantity,unit_price_cents,amount_cents';
    const path = fileWithLatin1(
      'in.csv',
      [
        header,
        'c-1,V-1,Acme,INV-1,2025-03-01,USD,21500,1,Oxygen concentrator,1,20000,20000',
        'c-1,V-1,Acme,INV-1,2025-03-01,USD,21500,2,Portable g\u00e9seous oxygen,1,1500,1500',
        'c-2,V-1,Acme,INV-2,2025-03-02,USD,1250,1,Nébulizer,1,1250,1250',
      ],
      3,
    );
    const recs = readInvoiceFile(path);
    expect(recs.map((r) => [r.location, r.parseError])).toEqual([
      ['rows 2-3', 'line 3: byte 52 of the line (0xe9) is not UTF-8; the invoice is not read'],
      ['row 4', undefined],
    ]);
    expect((recs[1]!.value as { lines: { description: string }[] }).lines[0]!.description).toBe('Nébulizer');
  });

  it('CSV: a header that is not UTF-8 refuses the file, naming the file, line 1 and the byte', () => {
    const path = fileWithLatin1('in.csv', ['invoice_id,d\u00e9scription', 'c-1,x'], 1);
    try {
      readInvoiceFile(path);
      expect.unreachable();
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_FILE_INVALID')).toBe(true);
      expect((e as Error).message).toBe(
        `${path}: CSV line 1 (the header): byte 12 of the line (0xe9) is not UTF-8`,
      );
    }
  });

  it('score: reports the file, line and byte, scores the other records', async () => {
    const path = jsonl(4);
    const s = await scoreFile(path, { store: { engine: 'pglite' }, models: null });
    expect(s).toMatchObject({ invoices: 5, scored: 4 });
    expect(s.invalid).toEqual([
      {
        location: `${path} line 4`,
        errors: [expect.stringMatching(/^byte \d+ of the line \(0xe9\) is not UTF-8/)],
      },
    ]);
  }, 180_000);

  it('import: reports the JSONL line and byte, imports the other records, never the altered one', async () => {
    const path = jsonl(4);
    const r = await importFiles([path], {
      store: { engine: 'pglite', dataDir: join(mkdtempSync(join(tmpdir(), 'triage-utf8-db-')), 'pglite') },
      workers: 0,
    });
    expect(r.imported).toBe(4);
    expect(r.invalid).toHaveLength(1);
    expect(r.invalid[0]!.location).toBe(`${path} line 4`);
    expect(r.invalid[0]!.errors.join('; ')).toMatch(/byte \d+ of the line \(0xe9\) is not UTF-8/);
  }, 180_000);
});

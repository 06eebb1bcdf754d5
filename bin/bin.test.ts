import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.js';
import { NO_INVOICE, parseCsv, parseJsonl, readInvoiceFile } from './invoice-file.js';
import { importFiles } from './import.js';
import { INT_CELL, NUM_CELL } from './csv-cells.js';
import { createKey, renderSummary, scoreFile, serviceStore } from './cli.js';
import { isTriageError } from '../core/errors.js';
import { validateInvoice } from '../core/validate.js';
import { makeInvoice } from '../test/fixtures.js';
import { packageRoot } from '../core/paths.js';
import { openPglite } from '../store/index.js';

describe('loadConfig', () => {
  it('defaults to the embedded store on 127.0.0.1:3000', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', logLevel: 'info', store: { engine: 'pglite' } });
    expect(c.store.engine === 'pglite' && c.store.dataDir).toMatch(/data\/pglite$/);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', PORT: '8080' })).toMatchObject({
      port: 8080,
      store: { engine: 'postgres', connectionString: 'postgres://u@h/db' },
    });
  });

  it('reads the model operator tenant, default "default"', () => {
    expect(loadConfig({}).models.operatorTenant).toBe('default');
    expect(loadConfig({ MODEL_OPERATOR_TENANT: 'acme' }).models.operatorTenant).toBe('acme');
  });

  it('names each bad variable', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        MODEL_OPERATOR_TENANT: 'a b',
      });
      expect.unreachable();
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_CONFIG_INVALID')).toBe(true);
      const paths = (e as { errors: { path: string }[] }).errors.map((x) => x.path);
      expect(paths).toEqual(
        expect.arrayContaining(['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'MODEL_OPERATOR_TENANT']),
      );
    }
  });
});

const CSV = `invoice_id,vendor_id,vendor_name,vendor_npi,invoice_number,invoice_date,currency,total_cents,document_type,line_number,description,code_system,code,modifiers,quantity,unit_price_cents,amount_cents
c-1,V-1,Acme Medical,1234567893,INV-1,2025-03-01,USD,21500,invoice,1,Oxygen concentrator,HCPCS,E1390,RR,1,20000,20000
c-1,V-1,Acme Medical,1234567893,INV-1,2025-03-01,USD,21500,invoice,2,Nebulizer with compressor,HCPCS,E0570,RR,1,1500,1500
c-2,V-1,Acme Medical,,INV-2,2025-03-02,USD,12.50,invoice,1,Nebulizer,HCPCS,E0570,,one,1250,1250
`;

describe('invoice files', () => {
  it('groups CSV rows into invoices that validate', () => {
    const recs = parseCsv(CSV);
    expect(recs.map((r) => r.location)).toEqual(['rows 2-3', 'row 4']);
    const inv = validateInvoice(recs[0]!.value);
    expect(inv.lines).toHaveLength(2);
    expect(inv.lines[0]).toMatchObject({
      code: { system: 'HCPCS', value: 'E1390' },
      modifiers: ['RR'],
      unit_price_cents: 20_000,
    });
    expect(inv.vendor).toEqual({ id: 'V-1', name: 'Acme Medical', npi: '1234567893' });
  });

  it('refuses a CSV header naming a column twice or a column it does not read, naming it', () => {
    const [head, ...rows] = CSV.trim().split('\n');
    const refusal = (text: string): string => {
      try {
        parseCsv(text);
      } catch (e) {
        if (isTriageError(e, 'TRIAGE_FILE_INVALID')) return e.message;
        throw e;
      }
      return 'read';
    };
    // A second invoice_id column: which of the two cells would be the invoice's id?
    expect(refusal([`${head},invoice_id`, ...rows.map((r) => `${r},other`)].join('\n'))).toBe(
      'CSV header names column "invoice_id" more than once (columns 1, 18)',
    );
    // A misspelt po_number, and a field the CSV format does not carry: neither is dropped unseen.
    expect(
      refusal([`${head},po_numbr,received_date`, ...rows.map((r) => `${r},PO-1,2025-03-02`)].join('\n')),
    ).toBe(
      'CSV header has unknown column(s): "po_numbr", "received_date"; the columns are ' +
        'invoice_id, vendor_id, vendor_name, vendor_tax_id, vendor_npi, invoice_number, invoice_date, ' +
        'due_date, currency, total_cents, document_type, po_number, facility_id, service_period_start, ' +
        'service_period_end, line_number, description, code_system, code, modifiers, quantity, ' +
        'unit_price_cents, amount_cents, service_date',
    );
    expect(refusal(CSV)).toBe('read');
  });

  it('checks a CSV header without rows, and refuses a file holding no invoice (exit 2), naming it', async () => {
    const [head] = CSV.trim().split('\n');
    expect(() => parseCsv(`${head},po_numbr\n`)).toThrow('CSV header has unknown column(s): "po_numbr"');
    expect(() => parseCsv('invoice_id,description\n')).toThrow('CSV header lacks column(s): line_number');
    const dir = mkdtempSync(join(tmpdir(), 'triage-empty-'));
    const files: [string, string][] = [
      ['empty.jsonl', ''],
      ['blank.jsonl', '\n  \n'],
      ['header.csv', `${head}\n`],
      ['empty.csv', ''],
    ];
    for (const [name, text] of files) {
      const path = join(dir, name);
      writeFileSync(path, text);
      expect(() => readInvoiceFile(path), name).toThrow(`${path}: ${NO_INVOICE}`);
    }
    // import streams JSONL: the same refusal once the file is read through.
    await expect(
      importFiles([join(dir, 'blank.jsonl')], { store: { engine: 'pglite' }, workers: 0 }),
    ).rejects.toThrow(`${join(dir, 'blank.jsonl')}: ${NO_INVOICE}`);
  }, 120_000);

  it('names the line and column of a number not written as its column takes, saying what it takes', () => {
    const bad = parseCsv(CSV)[1]!;
    expect(bad.value).toBeNull();
    expect(bad.parseError).toBe(
      `line 4, column total_cents: "12.50" is not ${INT_CELL}; ` +
        `line 4, column quantity: "one" is not ${NUM_CELL}; the invoice is not read`,
    );
    expect(NUM_CELL).toContain('no exponent such as 1e2');
    const [head, a1] = CSV.trim().split('\n');
    const [exp] = parseCsv([head, a1!.replace(',1,20000,20000', ',1e2,20000,20000')].join('\n'));
    expect(exp!.parseError).toBe(
      `line 2, column quantity: "1e2" is not ${NUM_CELL}; the invoice is not read`,
    );
  });

  it('sets aside a row with an unclosed quote (and its invoice), naming the line, and reads the rest', () => {
    const [head, a1, a2, b1] = CSV.trim().split('\n');
    const c1 = a1!.replaceAll('c-1', 'c-3').replace('INV-1', 'INV-3');
    const d1 = a1!.replaceAll('c-1', 'c-4').replace('INV-1', 'INV-4');
    // c-1's second row opens a quote in its description that never closes.
    const text = [
      head,
      a1,
      a2!.replace('Nebulizer with compressor', '"Nebulizer with compressor'),
      '',
      c1,
      `${d1},extra`,
      b1,
      '',
    ].join('\n');
    const recs = parseCsv(text);
    expect(recs.map((r) => [r.location, r.parseError])).toEqual([
      [
        'rows 2-3',
        'line 3: a quoted field opened on this line is not closed; the row is not read; the invoice is not read',
      ],
      ['row 5', undefined],
      ['row 6', 'the row has another number of fields than the header (17); it is not read'],
      ['row 7', expect.stringContaining('line 7, column total_cents: "12.50" is not')], // read, then refused
    ]);
    expect(validateInvoice(recs[1]!.value).invoice_id).toBe('c-3');
  });

  it('sets aside a row with a stray quote (and its invoice), naming its one line, and reads the rest', () => {
    const [head, a1, a2, b1] = CSV.trim().split('\n');
    const c1 = a1!.replaceAll('c-1', 'c-3').replace('INV-1', 'INV-3');
    const d1 = a1!
      .replaceAll('c-1', 'c-4')
      .replace('INV-1', 'INV-4')
      .replace('Oxygen concentrator', '"O2, tank"');
    // c-1's second row opens a quote before the vendor id; it closes at the next comma and is
    // followed by text. c-3's row has a closing quote followed by text, which would otherwise
    // pair with the quote on c-4's row and swallow it.
    const text = [
      head,
      a1,
      a2!.replace(',V-1,', ',"V-1,'),
      c1!.replace('Oxygen concentrator', '"Oxygen" concentrator'),
      d1,
      b1,
      '',
    ].join('\n');
    const recs = parseCsv(text);
    const stray =
      'a quoted field is followed by a character other than a comma or the end of the line; the row is not read';
    const open = 'a quoted field opened on this line is not closed; the row is not read';
    expect(recs.map((r) => [r.location, r.parseError])).toEqual([
      ['rows 2-3', `line 3: ${open}; the invoice is not read`],
      ['row 4', stray],
      ['row 5', undefined],
      ['row 6', expect.stringContaining('column quantity: "one" is not')],
    ]);
    expect(validateInvoice(recs[2]!.value).lines[0]!.description).toBe('O2, tank');
  });

  it('refuses an invoice whose rows disagree on an invoice column, naming the invoice, column and lines', () => {
    const [head, a1, a2, b1] = CSV.trim().split('\n');
    const total = `${head}\n${a1}\n${a2!.replace(',21500,', ',9999,')}\n${b1}\n`;
    const recs = parseCsv(total);
    expect(recs.map((r) => [r.location, r.parseError])).toEqual([
      [
        'rows 2-3',
        'invoice "c-1": column total_cents is "21500" on line 2 but "9999" on line 3; every row of an invoice repeats its invoice columns; the invoice is not read',
      ],
      ['row 4', expect.stringContaining('line 4, column total_cents: "12.50" is not')],
    ]);
    expect(recs[0]!.value).toBeNull();
    const vendor = `${head}\n${a1}\n${b1}\n${a2!.replace('Acme Medical', 'Acme Other')}\n`;
    expect(parseCsv(vendor)[0]!.parseError).toMatch(
      /^invoice "c-1": column vendor_name is "Acme Medical" on line 2 but "Acme Other" on line 4;/,
    );
  });

  it('names file lines when a quoted value spans lines', () => {
    const [head, a1, a2, b1] = CSV.trim().split('\n');
    const text = [head, a1!.replace('Oxygen concentrator', '"Oxygen\nconcentrator"'), a2, b1, ''].join('\n');
    expect(parseCsv(text).map((r) => r.location)).toEqual(['rows 2-4', 'row 5']);
  });

  it('refuses a CSV without the key columns', () => {
    expect(() => parseCsv('a,b\n1,2\n')).toThrow(/invoice_id, line_number, description/);
  });

  it('reports bad JSON lines by line number', () => {
    const recs = parseJsonl(`${JSON.stringify(makeInvoice())}\n\n{oops\n`);
    expect(recs.map((r) => [r.location, r.parseError])).toEqual([
      ['line 1', undefined],
      ['line 3', 'not valid JSON'],
    ]);
  });
});

describe('scoreFile', () => {
  it('scores a CSV file, reports invalid rows and writes decisions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-cli-'));
    const file = join(dir, 'in.csv');
    writeFileSync(file, CSV);
    const out = join(dir, 'out.jsonl');
    // The heuristic scorers: this test is about the file path, not the model's scores.
    const s = await scoreFile(file, { store: { engine: 'pglite' }, out, models: null });
    expect(s).toMatchObject({ invoices: 2, scored: 1, replayed: 0 });
    expect(s.invalid[0]!.location).toBe(`${file} row 4`);
    expect(s.decisions).toEqual({ AUTO_APPROVE: 1 });
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1);
    const text = renderSummary(s);
    expect(text).toContain('duplicates found: 0');
    expect(text).toContain('row 4: line 4, column total_cents: "12.50" is not a whole number');
  });

  it('refuses --out naming an input file (by its path or a link), and leaves the input as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-cli-'));
    const file = join(dir, 'in.jsonl');
    writeFileSync(file, JSON.stringify(makeInvoice({ invoice_id: 'cli-out-1' })) + '\n');
    const before = readFileSync(file, 'utf8');
    const link = join(dir, 'link.jsonl');
    symlinkSync(file, link);
    for (const out of [file, join(dir, '.', 'in.jsonl'), link])
      await expect(scoreFile(file, { store: { engine: 'pglite' }, out, models: null })).rejects.toThrow(
        `--out ${out} is the input file ${file}`,
      );
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('names the file whose CSV header is refused, among several', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-cli-'));
    const good = join(dir, 'good.csv');
    const bad = join(dir, 'semicolon.csv');
    writeFileSync(good, CSV);
    writeFileSync(bad, 'invoice_id;line_number;description\nA;1;x\n');
    await expect(scoreFile([good, bad], { store: { engine: 'pglite' }, models: null })).rejects.toThrow(
      `${bad}: CSV header lacks column(s): invoice_id, line_number, description`,
    );
  });

  it('lists a duplicate once when its invoice is sent again (replayed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-cli-'));
    const file = join(dir, 'in.jsonl');
    const original = makeInvoice({ invoice_id: 'cli-dup-1' });
    const copy = { ...original, invoice_id: 'cli-dup-2' };
    writeFileSync(file, [original, copy, copy].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const s = await scoreFile(file, { store: { engine: 'pglite' }, models: null });
    expect(s).toMatchObject({ invoices: 3, scored: 3, replayed: 1 });
    expect(s.duplicates.map((d) => [d.invoice_id, d.duplicate_of])).toEqual([['cli-dup-2', 'cli-dup-1']]);
    expect(renderSummary(s)).toContain('duplicates found: 1');
  });
});

describe('keys and audit commands', () => {
  const root = packageRoot();
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin', 'cli.ts'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 120_000,
    });

  it('creates a key, verifies the audit chain, and exits 1 naming the first bad seq after tampering', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'triage-cli-keys-')), 'pglite');
    const created = run([
      'keys',
      'create',
      '--tenant',
      'acme',
      '--role',
      'reviewer',
      '--role',
      'auditor',
      '--data-dir',
      dataDir,
    ]);
    expect(created.status, created.stderr).toBe(0);
    const k = JSON.parse(created.stdout) as {
      tenant_id: string;
      roles: string[];
      key: string;
      prefix: string;
    };
    expect(k).toMatchObject({ tenant_id: 'acme', roles: ['reviewer', 'auditor'] });
    expect(k.prefix).toBe(k.key.slice(0, 12));

    const ok = run(['audit', 'verify', '--data-dir', dataDir]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok\s+tenant acme: 1 entries/m);

    const db = await openPglite(dataDir);
    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
      UPDATE audit_log SET payload = replace(payload, 'auditor', 'admin') WHERE tenant_id = 'acme' AND seq = 1;`);
    await db.close();
    const broken = run(['audit', 'verify', '--tenant', 'acme', '--data-dir', dataDir]);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('BROKEN  tenant acme: first bad seq 1 (payload_altered)');

    await expect(
      createKey({ engine: 'pglite', dataDir }, { tenant: 'acme', roles: ['root'] }),
    ).rejects.toSatisfy(
      (e: unknown) => isTriageError(e, 'TRIAGE_REQUEST_INVALID') && e.errors[0]!.path === '--role',
    );
    await expect(
      createKey({ engine: 'pglite', dataDir }, { tenant: 'acme', roles: ['reviewer'], name: ' \u200b' }),
    ).rejects.toSatisfy(
      (e: unknown) => isTriageError(e, 'TRIAGE_REQUEST_INVALID') && e.errors[0]!.path === '--name',
    );
    // A control character the API refuses in a key name (was stored by the CLI).
    await expect(
      createKey({ engine: 'pglite', dataDir }, { tenant: 'acme', roles: ['reviewer'], name: 'bell\u0007' }),
    ).rejects.toSatisfy(
      (e: unknown) =>
        isTriageError(e, 'TRIAGE_REQUEST_INVALID') &&
        e.errors[0]!.path === '--name' &&
        e.errors[0]!.message.startsWith('contains the control character \\u0007'),
    );
  }, 180_000);

  it('refuses, without a stack trace, a store held by another process (the running server)', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'triage-cli-held-')), 'pglite');
    const server = await openPglite(dataDir);
    try {
      const r = run(['keys', 'create', '--tenant', 'acme', '--role', 'reviewer', '--data-dir', dataDir]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        `TRIAGE_STORE_UNAVAILABLE: the embedded store ${dataDir} is in use by another process`,
      );
      expect(r.stderr).toContain('--database-url');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await server.close();
    }
    const after = run(['keys', 'create', '--tenant', 'acme', '--role', 'reviewer', '--data-dir', dataDir]);
    expect(after.status, after.stderr).toBe(0);
  }, 180_000);

  it('takes the schema of --database-url from --schema, else DATABASE_SCHEMA', () => {
    const url = 'postgres://u@h/db';
    expect(serviceStore({ databaseUrl: url }, { DATABASE_SCHEMA: 'tenant_a' })).toEqual({
      engine: 'postgres',
      connectionString: url,
      schema: 'tenant_a',
    });
    expect(serviceStore({ databaseUrl: url, schema: 'other' }, { DATABASE_SCHEMA: 'tenant_a' })).toEqual({
      engine: 'postgres',
      connectionString: url,
      schema: 'other',
    });
    expect(serviceStore({ databaseUrl: url }, {})).toEqual({ engine: 'postgres', connectionString: url });
  });

  it('refuses an X12 file with one usage error (exit 2): import takes JSONL/NDJSON or CSV', () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-cli-import-x12-'));
    const file = join(dir, 'inv.x12');
    writeFileSync(file, 'ISA*00*          *00*          *ZZ*SENDER~\nGS*IN~\nST*810*0001~\n');
    const r = run(['import', file, '--data-dir', join(dir, 'db')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('import takes JSONL/NDJSON or CSV');
    expect(r.stderr).toContain(file);
    expect(r.stderr).not.toContain('not valid JSON');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 'db'))).toBe(false);
  }, 180_000);

  it('refuses a numeric option that is not a positive integer with a usage error (exit 2) naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-cli-args-'));
    const file = join(dir, 'past.jsonl');
    writeFileSync(file, JSON.stringify(makeInvoice()) + '\n');
    const cases: [string[], string][] = [
      [['--parallel', '--defer-index'], "option '--parallel <n>' argument '--defer-index' is invalid"],
      [['--parallel', 'foo'], "option '--parallel <n>' argument 'foo' is invalid"],
      [['--chunk', '0'], "option '--chunk <n>' argument '0' is invalid"],
      [['--chunk', 'abc'], "option '--chunk <n>' argument 'abc' is invalid"],
      [['--chunk', '-5'], "option '--chunk <n>' argument '-5' is invalid"],
    ];
    for (const [flags, message] of cases) {
      const r = run(['import', file, '--data-dir', join(dir, 'db'), ...flags]);
      expect(r.status, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('must be a positive integer');
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'db'))).toBe(false);
  }, 180_000);
});

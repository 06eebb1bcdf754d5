import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeContract, makePo, makeReceipts } from '../test/erp-fixtures.js';
import { packageRoot } from '../core/paths.js';
import { isTriageError, type TriageError } from '../core/errors.js';
import { openStore } from '../store/index.js';
import { openErpFile, readErpFile } from './erp-file.js';

const dir = mkdtempSync(join(tmpdir(), 'erp-file-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('ERP files', () => {
  it('reads JSONL records of the three kinds', () => {
    const p = file(
      'a.jsonl',
      [
        { type: 'purchase_order', ...makePo() },
        { type: 'receipt', ...makeReceipts()[0]! },
        { type: 'contract', ...makeContract() },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const load = readErpFile(p);
    expect(load.purchase_orders).toEqual([makePo()]);
    expect(load.receipts).toEqual([makeReceipts()[0]]);
    expect(load.contracts).toEqual([makeContract()]);
  });

  it('reads JSON and JSONL files that start with a byte-order mark and end lines with CRLF', () => {
    const records = [
      { type: 'purchase_order', ...makePo() },
      { type: 'receipt', ...makeReceipts()[0]! },
    ];
    const jsonl = file('bom.jsonl', `\uFEFF${records.map((r) => JSON.stringify(r)).join('\r\n')}\r\n`);
    const json = file('bom.json', `\uFEFF${JSON.stringify({ purchase_orders: [makePo()] })}\r\n`);
    expect(readErpFile(jsonl)).toEqual({ purchase_orders: [makePo()], receipts: [makeReceipts()[0]] });
    expect(readErpFile(json)).toEqual({ purchase_orders: [makePo()] });
  });

  it('groups CSV PO line rows into POs and reads receipt rows', () => {
    const p = file(
      'a.csv',
      'record_type,po_number,vendor_id,status,order_date,version,line_number,description,supplier_part,uom,pack_qty,quantity,unit_price_cents,receipt_id,po_line_number,received_date\n' +
        'po_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,010-00715-20,BX,100,10,4120,,,\n' +
        'po_line,PO-1,V-100,open,2025-02-10,1,2,Catheter,,EA,,5,1850,,,\n' +
        'receipt,PO-1,,,,1,,,,BX,100,10,,GR-1,1,2025-02-20\n',
    );
    const load = readErpFile(p);
    expect(load.purchase_orders).toHaveLength(1);
    expect(
      load.purchase_orders![0]!.lines.map((l) => [l.line_number, l.uom, l.pack_qty, l.identifiers]),
    ).toEqual([
      [1, 'BX', 100, { supplier_part: '010-00715-20' }],
      [2, 'EA', undefined, undefined],
    ]);
    expect(load.receipts).toEqual([
      {
        receipt_id: 'GR-1',
        po_number: 'PO-1',
        po_line_number: 1,
        quantity: 10,
        uom: 'BX',
        pack_qty: 100,
        received_date: '2025-02-20',
        version: 1,
      },
    ]);
  });

  it('names the field of a bad record', () => {
    const po = makePo();
    delete (po.lines[0] as Partial<(typeof po.lines)[0]>).quantity;
    const p = file('b.jsonl', JSON.stringify({ type: 'purchase_order', ...po }));
    expect(() => readErpFile(p)).toThrow(expect.objectContaining({ code: 'TRIAGE_FILE_INVALID' }));
    try {
      readErpFile(p);
    } catch (e) {
      expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 1, /lines/0/quantity');
    }
  });

  it('names the line of a JSONL record that is not an object (null, an array)', () => {
    for (const bad of ['null', '[1]', '42']) {
      const p = file('c.jsonl', `${JSON.stringify({ type: 'contract', ...makeContract() })}\n${bad}\n`);
      let thrown: unknown;
      try {
        readErpFile(p);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2');
    }
  });

  it('refuses a type named like a prototype member, naming it', () => {
    for (const type of ['constructor', '__proto__', 'toString']) {
      const p = file('d.jsonl', JSON.stringify({ type, ...makeContract() }));
      expect(thrown(p).errors, type).toEqual([
        { path: 'line 1/type', message: 'must be purchase_order, receipt or contract' },
      ]);
    }
  });
});

const HEADER =
  'record_type,po_number,vendor_id,status,order_date,version,line_number,description,supplier_part,uom,pack_qty,quantity,unit_price_cents,receipt_id,po_line_number,received_date';
const thrown = (p: string): TriageError => {
  try {
    readErpFile(p);
  } catch (e) {
    if (isTriageError(e)) return e;
    throw e;
  }
  throw new Error('expected the file to be refused');
};

describe('ERP CSV files name the file line and column', () => {
  it('names the line and column of a schema problem (a PO line field, a header field, a receipt field)', () => {
    const p = file(
      'rows.csv',
      `${HEADER}\n` +
        'po_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,010-00715-20,BX,100,10,4120,,,\n' +
        '\n' +
        'po_line,PO-1,V-100,open,2025-02-10,1,2,"Catheter,\nsilicone",,EA,,-5,1850,,,\n' +
        'po_line,PO-2,V-100,open,2025-02-31,1,1,Gauze,,EA,,5,100,,,\n' +
        'receipt,PO-1,,,,1,,,,BX,100,abc,,GR-1,1,2025-02-20\n',
    );
    const e = thrown(p);
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 4, column quantity');
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 6, column order_date');
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 7, column quantity');
    expect(e.message).toContain('rows.csv line 4, column quantity: ');
    expect(e.message).toContain('(/purchase_orders/0/lines/1/quantity)');
  });

  it('reads numeric cells in plain decimal only: hex, binary, octal, exponent and blank cells are named', () => {
    const p = file(
      'numbers.csv',
      `${HEADER}\n` +
        'po_line,PO-1,V-100,open,2025-02-10,0x10,1,Gloves,,BX,100,1,100,,,\n' +
        'po_line,PO-2,V-100,open,2025-02-10,1,0b1,Gloves,,BX,100,1,100,,,\n' +
        'po_line,PO-3,V-100,open,2025-02-10,1,1,Gloves,,BX,0o7,1,100,,,\n' +
        'po_line,PO-4,V-100,open,2025-02-10,1,1,Gloves,,BX,100,1e3,100,,,\n' +
        'po_line,PO-5,V-100,open,2025-02-10,1,1,Gloves,,BX,100,1, ,,,\n' +
        'po_line,PO-6,V-100,open,2025-02-10,1,1,Gloves,,BX,100,1,12.5,,,\n' +
        'receipt,PO-1,,,,0x1,,,,BX,100,1,,GR-1,1e0,2025-02-20\n',
    );
    const e = thrown(p);
    const at = [
      'line 2, column version',
      'line 3, column line_number',
      'line 4, column pack_qty',
      'line 5, column quantity',
      'line 6, column unit_price_cents',
      'line 7, column unit_price_cents',
      'line 8, column version',
      'line 8, column po_line_number',
    ];
    for (const path of at) expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', path);
    expect(e.message).toContain('numbers.csv line 2, column version: ');
    // Each says what its column takes; a blank required cell is the schema's "required".
    const said = (path: string) => e.errors.find((x) => x.path === path)?.message;
    expect(said('line 5, column quantity')).toMatch(/^"1e3" is not a plain decimal number .*no exponent/);
    expect(said('line 2, column version')).toMatch(/^"0x10" is not a whole number/);
    expect(said('line 8, column po_line_number')).toMatch(/^"1e0" is not a whole number/);
    expect(said('line 6, column unit_price_cents')).not.toMatch(/ is not a /);
    // A decimal quantity of a measure (2.5 LT) loads; one of boxes is named at its cell.
    const good = file(
      'decimal.csv',
      `${HEADER}\npo_line,PO-1,V-100,open,2025-02-10,2,1,Saline,,LT, 100 ,2.5,100,,,\n`,
    );
    expect(readErpFile(good).purchase_orders![0]).toMatchObject({
      version: 2,
      lines: [{ line_number: 1, pack_qty: 100, quantity: 2.5, unit_price_cents: 100 }],
    });
    const boxes = file(
      'boxes.csv',
      `${HEADER}\npo_line,PO-1,V-100,open,2025-02-10,2,1,Gloves,,BX, 100 ,2.5,100,,,\n`,
    );
    expect(thrown(boxes)).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2, column quantity');
  });

  it('names identifier columns and the row of a check beyond the schema (amount over the limit, unknown unit)', () => {
    const p = file(
      'amount.csv',
      `${HEADER}\n` +
        'po_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,010-00715-20,BX,100,1000000,10000000000000,,,\n' +
        'receipt,PO-1,,,,1,,,,QQ,,1,,GR-1,1,2025-02-20\n',
    );
    const e = thrown(p);
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2, column unit_price_cents');
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 3, column uom');
    const ids = file(
      'ids.csv',
      `${HEADER}\npo_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,${'x'.repeat(65)},BX,100,1,1,,,\n`,
    );
    expect(thrown(ids)).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2, column supplier_part');
  });

  it('names a PO header that differs between the rows of one PO, and an unknown record type', () => {
    const p = file(
      'header.csv',
      `${HEADER}\n` +
        'po_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,,BX,100,1,1,,,\n' +
        'po_line,PO-1,V-200,open,2025-02-10,1,2,Gauze,,EA,,1,1,,,\n' +
        'invoice,PO-1,,,,,,,,,,,,,,\n',
    );
    const e = thrown(p);
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 3, column vendor_id');
    expect(e.errors.find((x) => x.path === 'line 3, column vendor_id')!.message).toBe(
      'differs from line 2 of the same record',
    );
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 4, column record_type');
  });

  it('names the line of a row the CSV parser cannot read', () => {
    const p = file('quote.csv', `${HEADER}\npo_line,PO-1,V-100,open,2025-02-10,1,1,"Gloves,,BX,100,1,1,,,\n`);
    const e = thrown(p);
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2');
    expect(e.message).toContain('Quote Not Closed');
  });

  it('names the line and column of a NUL or other control character, and of a byte that is not UTF-8', () => {
    for (const [name, description, message] of [
      ['nul.csv', 'Glo\u0000ves', 'contains a NUL character'],
      ['bel.csv', 'Glo\u0007ves', 'contains the control character \\u0007'],
    ] as const) {
      const p = file(
        name,
        `${HEADER}\npo_line,PO-1,V-100,open,2025-02-10,1,1,${description},,BX,100,1,1,,,\n`,
      );
      const e = thrown(p);
      expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2, column description');
      expect(e.message).toContain(message);
    }
    const p = join(dir, 'latin1.csv');
    writeFileSync(
      p,
      Buffer.concat([
        Buffer.from(`${HEADER}\npo_line,PO-1,V-100,open,2025-02-10,1,1,Caf`),
        Buffer.from([0xe9]),
        Buffer.from(',,BX,100,1,1,,,\n'),
      ]),
    );
    const e = thrown(p);
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2');
    expect(e.message).toContain('not UTF-8');
  });

  it('reads contracts from contract_item rows, grouped by contract, facilities separated by ;', () => {
    const load = readErpFile(join(packageRoot(), 'datasets', 'samples', 'erp', 'erp_load.csv'));
    expect(load.purchase_orders?.map((p) => [p.po_number, p.lines.length])).toEqual([['PO-1001', 2]]);
    expect(load.purchase_orders![0]!.lines[1]!.description).toBe(
      'Foley catheter 16 Fr silicone, 5 ml balloon',
    );
    expect(load.receipts?.map((r) => r.receipt_id)).toEqual(['GR-1', 'GR-2']);
    expect(load.contracts).toEqual([
      {
        contract_id: 'GPO-7',
        vendor_id: 'V-100',
        kind: 'gpo',
        tier: 'T1',
        effective_date: '2025-01-01',
        end_date: '2025-12-31',
        facilities: ['FAC-1', 'FAC-2'],
        version: 1,
        items: [
          {
            description: 'Exam gloves nitrile medium',
            identifiers: { supplier_part: '0100071520' },
            uom: 'BX',
            pack_qty: 100,
            price_cents: 4_120,
          },
          {
            description: 'Exam gloves nitrile large',
            identifiers: { supplier_part: '0100071530' },
            uom: 'BX',
            pack_qty: 100,
            price_cents: 4_120,
          },
        ],
      },
    ]);
    const bad = file(
      'contract.csv',
      'record_type,contract_id,vendor_id,effective_date,end_date,facilities,version,description,uom,price_cents\n' +
        'contract_item,C-1,V-100,2025-06-01,2025-05-01,,1,Gloves,BX,-1\n',
    );
    expect(thrown(bad)).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2, column price_cents');
    const backwards = file(
      'contract2.csv',
      'record_type,contract_id,vendor_id,effective_date,end_date,facilities,version,description,supplier_part,uom,price_cents\n' +
        'contract_item,C-1,V-100,2025-06-01,2025-05-01,,1,Gloves,GL-1,BX,100\n',
    );
    expect(thrown(backwards)).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2, column end_date');
    // A contract item row without any identifier column filled is found by nothing: refused.
    const unnamed = file(
      'contract3.csv',
      'record_type,contract_id,vendor_id,effective_date,end_date,facilities,version,description,supplier_part,uom,price_cents\n' +
        'contract_item,C-1,V-100,2025-01-01,2025-12-31,,1,Gloves,,BX,100\n',
    );
    expect(thrown(unnamed)).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 2, /identifiers');
  });
});

describe('ERP file receipt dates', () => {
  const rows = (date: string) =>
    `${HEADER}\n` +
    'po_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,010-00715-20,BX,100,10,4120,,,\n' +
    `receipt,PO-1,,,,1,,,,BX,100,10,,GR-1,1,${date}\n`;
  const now = new Date('2026-12-07T23:30:00Z');

  it('refuses a receipt dated after the day of the load plus one day, naming the file line and column', () => {
    const p = file('future.csv', rows('2099-02-21'));
    let e: unknown;
    try {
      openErpFile(p, now);
    } catch (x) {
      e = x;
    }
    expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 3, column received_date');
    expect((e as TriageError).message).toBe(
      'future.csv line 3, column received_date: receipt GR-1: received_date 2099-02-21 is after 2026-12-08 (the day of the load plus one day); load a receipt once the goods have arrived (/receipts/0/received_date)',
    );
    // Without a clock given, the system's: 2099 is in the future too.
    expect(thrown(p)).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 3, column received_date');
  });

  it('reads a receipt dated tomorrow or before its PO order date', () => {
    expect(openErpFile(file('tomorrow.csv', rows('2026-12-08')), now).load.receipts).toHaveLength(1);
    expect(openErpFile(file('early.csv', rows('2025-02-01')), now).load.receipts).toHaveLength(1);
    expect(() => openErpFile(file('late.csv', rows('2026-12-09')), now)).toThrow(
      /2026-12-09 is after 2026-12-08/,
    );
  });
});

describe('npm run cli -- erp load FILE.csv', () => {
  const root = packageRoot();
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin', 'cli.ts'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 120_000,
    });

  it('loads the sample CSV once the vendor has a profile; before, names the file line and column', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'triage-cli-erp-')), 'pglite');
    const sample = join(root, 'datasets', 'samples', 'erp', 'erp_load.csv');
    const refused = run(['erp', 'load', sample, '--tenant', 'acme', '--data-dir', dataDir]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('TRIAGE_ERP_REFERENCE_INVALID');
    expect(refused.stderr).toContain(
      'erp_load.csv line 2, column vendor_id: PO PO-1001: vendor V-100 is unknown',
    );
    expect(refused.stderr).toContain('erp_load.csv line 6, column vendor_id: contract GPO-7');
    const repo = await openStore({ engine: 'pglite', dataDir });
    await repo.vendors.put('acme', 'V-100', { approved_betos: [], approved_hcpcs_prefixes: [] }, null);
    await repo.close();
    const ok = run(['erp', 'load', sample, '--tenant', 'acme', '--data-dir', dataDir]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      purchase_orders: { created: 1 },
      receipts: { created: 2 },
      contracts: { created: 1 },
    });
  }, 180_000);
});

describe('ERP CSV header', () => {
  it('refuses a column named twice or a column no record kind reads, naming each', () => {
    const row = 'po_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,010-00715-20,BX,100,10,4120,,,';
    const twice = thrown(file('twice.csv', `${HEADER.replace('received_date', 'quantity')}\n${row}\n`));
    expect(twice.errors).toEqual([
      { path: 'line 1, column quantity', message: 'is named more than once (column 16)' },
    ]);
    const unknown = thrown(file('unknown.csv', `${HEADER.replace('po_number', 'po_numbr')}\n${row}\n`));
    expect(unknown).toBeProblem(400, 'TRIAGE_FILE_INVALID', 'line 1, column po_numbr');
    expect(unknown.errors).toHaveLength(1);
    expect(unknown.errors[0]!.message).toMatch(
      /^is not a column of an ERP CSV; the columns are record_type, po_number/,
    );
  });

  it('reads a header of every known column in any order', () => {
    const cols = HEADER.split(',').reverse();
    const cells = 'po_line,PO-1,V-100,open,2025-02-10,1,1,Gloves,010-00715-20,BX,100,10,4120,,,'
      .split(',')
      .reverse();
    const load = readErpFile(file('reordered.csv', `${cols.join(',')}\n${cells.join(',')}\n`));
    expect(load.purchase_orders?.[0]?.lines[0]?.unit_price_cents).toBe(4120);
  });
});

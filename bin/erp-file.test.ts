import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeContract, makePo, makeReceipts } from '../test/erp-fixtures.js';
import { readErpFile } from './erp-file.js';

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
      expect(e).toBeProblem(400, 'TRIAGE_FILE_INVALID', '/purchase_orders/0/lines/0/quantity');
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
});

/**
 * The X12 writer (datasets/intake-writers.ts) writes each code system where the reader
 * (intake/mapping/x12.ts) takes it, so a written invoice reads back the same: HCPCS under IT1
 * qualifier HC, CPT under CJ, NDC under N4, UNSPSC as a structured PID of agency UA (element 235
 * has no UNSPSC qualifier); a system X12 has no place for (OTHER) is refused, not written bare.
 */
import { describe, expect, it } from 'vitest';
import { writeX12 } from '../datasets/intake-writers.js';
import { convertDocument } from './index.js';
import { twins, withoutSource } from './test-documents.js';

describe('X12 writer and reader', () => {
  it('the writer writes each code system where the reader reads it back, the same invoice', async () => {
    const [inv] = twins('hcpcs_invoices.twin.jsonl');
    const base = { ...inv!.lines[0]!, modifiers: undefined };
    const codes = [
      { system: 'HCPCS', value: 'E0431' },
      { system: 'CPT', value: '99213' }, // IT1 qualifier CJ
      { system: 'NDC', value: '00002-1433-80' },
      { system: 'UNSPSC', value: '42271700' }, // PID*S**UA (X12 235 has no UNSPSC qualifier)
      undefined,
    ] as const;
    const lines = codes.map((code, i) => {
      const { modifiers: _, code: __, ...line } = base;
      return { ...line, line_number: i + 1, ...(code ? { code: { ...code } } : {}) };
    });
    const total = lines.reduce((a, l) => a + l.amount_cents, 0);
    const written = { ...inv!, lines, total_cents: total, document_type: 'invoice' as const };
    const o = { sender: 'ROUNDTRIP', control: 1 };
    const [read] = await convertDocument('x12-810', Buffer.from(writeX12([written], o)));
    expect(withoutSource([read!])[0]!.lines.map((l) => l.code)).toEqual(codes);
    expect(() =>
      writeX12([{ ...written, lines: [{ ...lines[0]!, code: { system: 'OTHER', value: 'X1' } }] }], o),
    ).toThrow(/OTHER has no X12/);
  });
});

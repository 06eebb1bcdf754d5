/**
 * History import worker threads (inference/history-workers.ts): a chunk prepared in a worker is
 * the same as prepared in this thread (invoices, fingerprints, embeddings bit for bit, bad
 * records and their errors), and a refused chunk throws the same TriageError; rows encoded for
 * binary COPY in a worker are byte for byte the rows this thread encodes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { tenLineInvoice } from '../bench/history.js';
import { prepareHistoryRecords, type HistoryInput } from '../inference/history.js';
import { openHistoryWorkers } from '../inference/history-workers.js';
import { isTriageError } from '../core/errors.js';
import { encodeInvoiceCopy, encodeLineCopy, type HistoryRecord } from '../store/history.js';

const inputs: HistoryInput[] = [
  ...Array.from({ length: 20 }, (_, i) => ({ location: `/${i}`, value: tenLineInvoice(i, 'w') })),
  { location: 'f line 21', text: JSON.stringify(tenLineInvoice(21, 'w')) },
  { location: 'f line 22', text: '{"invoice_id": ' },
  { location: '/23', value: { ...tenLineInvoice(23, 'w'), lines: [] } },
];

describe('history workers', () => {
  const workers = openHistoryWorkers(2);
  afterAll(() => workers.close());

  it('prepare a chunk exactly as this thread does', async () => {
    const here = prepareHistoryRecords(inputs, 'report');
    const there = await workers.prepare(inputs, 'report');
    expect(here.valid).toHaveLength(21);
    expect(here.invalid.map((i) => i.location)).toEqual(['f line 22', '/23']);
    expect(there).toEqual(here);
    const emb = there.valid[20]!.keys!.lines[3]!.embedding;
    expect(emb).toBeInstanceOf(Float64Array);
    expect(Array.from(emb)).toEqual(Array.from(here.valid[20]!.keys!.lines[3]!.embedding));
  }, 60_000);

  it('refuse a chunk with the same error', async () => {
    let here: unknown;
    try {
      prepareHistoryRecords(inputs, 'refuse');
    } catch (e) {
      here = e;
    }
    const there: unknown = await workers.prepare(inputs, 'refuse').catch((e: unknown) => e);
    expect(isTriageError(here, 'TRIAGE_INPUT_INVALID')).toBe(true);
    expect(isTriageError(there, 'TRIAGE_INPUT_INVALID')).toBe(true);
    const shape = (e: unknown) => (isTriageError(e) ? { message: e.message, errors: e.errors } : null);
    expect(shape(there)).toEqual(shape(here));
  }, 60_000);

  it('encode COPY rows in a worker byte for byte as this thread does', async () => {
    const there = await workers.prepare(inputs, 'report', 'tenant-w');
    const here = prepareHistoryRecords(inputs, 'report');
    expect(there.valid).toHaveLength(21);
    expect(there.valid.every((v) => v.rows && v.keys === undefined)).toBe(true);
    const ahead = there.valid.map((v) => ({
      pk: v.rows!.pk,
      r: { location: v.location, invoice: v.invoice, payloadSha256: v.sha, rows: v.rows } as HistoryRecord,
    }));
    const inThread = here.valid.map((v, i) => ({
      pk: ahead[i]!.pk,
      r: { location: v.location, invoice: v.invoice, payloadSha256: v.sha, keys: v.keys! } as HistoryRecord,
    }));
    const invoices = encodeInvoiceCopy('tenant-w', inThread);
    const lines = encodeLineCopy('tenant-w', inThread)!;
    expect(invoices.length).toBeGreaterThan(21 * 1000);
    expect(lines.length).toBeGreaterThan(210 * 500);
    expect(Buffer.from(encodeInvoiceCopy('tenant-w', ahead)).equals(invoices)).toBe(true);
    expect(Buffer.from(encodeLineCopy('tenant-w', ahead)!).equals(lines)).toBe(true);
    // The tenant is in the encoded rows: another tenant's rows differ.
    expect(encodeInvoiceCopy('tenant-x', inThread).equals(invoices)).toBe(false);
    expect(encodeLineCopy('tenant-x', inThread)!.equals(lines)).toBe(false);
    // Each record's rows are its own slice: a reordered chunk encodes in its new order.
    const swapped = [ahead[1]!, ahead[0]!, ...ahead.slice(2)];
    const swappedHere = [inThread[1]!, inThread[0]!, ...inThread.slice(2)];
    expect(encodeLineCopy('tenant-w', swapped)!.equals(encodeLineCopy('tenant-w', swappedHere)!)).toBe(true);
    expect(new Set(ahead.map((a) => a.pk)).size).toBe(21);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import { makeInvoice } from '../../test/fixtures.js';
import { payloadSha256, prepare } from './prepare.js';

describe('prepare stage', () => {
  it('pairs every line with its own features, in order', () => {
    const inv = makeInvoice();
    const p = prepare(inv);
    expect(p.lines.map((l) => [l.line.line_number, l.features.lineNumber, l.features.code])).toEqual([
      [1, 1, 'E1390'],
      [2, 2, 'E0570'],
    ]);
    expect(p.keys.lines.map((l) => l.matchKey)).toEqual(p.lines.map((l) => l.features.matchKey));
    expect(p.lockKeys).toEqual([`vendor_key:${p.features.vendorKey}`, 'vendor_id:V-100']);
    expect(p.keys.invoiceNumberCanonical).toBe(p.features.invoiceNumber.canonical);
  });

  it('fingerprints the canonical JSON: key order does not matter, content does', () => {
    const inv = makeInvoice();
    const reordered = Object.fromEntries(Object.entries(inv).reverse()) as typeof inv;
    expect(payloadSha256(reordered)).toBe(payloadSha256(inv));
    expect(payloadSha256(makeInvoice({ total_cents: 21_501 }))).not.toBe(payloadSha256(inv));
    expect(prepare(inv).sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves the envelope out of the fingerprint: the same invoice from another document replays', () => {
    const inv = makeInvoice();
    const fromX12 = { ...inv, source: { format: 'x12-810', sha256: 'a'.repeat(64) } } as typeof inv;
    const fromUbl = { ...inv, source: { format: 'ubl-2.1', sha256: 'b'.repeat(64) } } as typeof inv;
    expect(payloadSha256(fromX12)).toBe(payloadSha256(inv));
    expect(payloadSha256(fromUbl)).toBe(payloadSha256(fromX12));
    expect(payloadSha256({ ...fromX12, total_cents: 1 })).not.toBe(payloadSha256(inv));
  });
});

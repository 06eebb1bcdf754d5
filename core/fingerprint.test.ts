import { describe, expect, it } from 'vitest';
import { canonicalSha256 } from './canonical.js';
import { fingerprintMatches, payloadSha256 } from './fingerprint.js';
import { makeInvoice } from '../test/fixtures.js';

describe('payloadSha256', () => {
  const inv = makeInvoice({
    extraction: {
      extractor: { name: 'ocr', version: '1' },
      lines: [
        { line_number: 1, code: 0.9 },
        { line_number: 2, code: 0.4 },
      ],
    },
  });
  const reversed = {
    ...inv,
    lines: [...inv.lines].reverse(),
    extraction: { ...inv.extraction!, lines: [...inv.extraction!.lines!].reverse() },
  };

  it('is the sha256 of the invoice as sent when its lines come in line_number order', () => {
    expect(payloadSha256(inv)).toBe(canonicalSha256(inv));
  });

  it('does not depend on the order of the lines or of the extraction lines', () => {
    expect(payloadSha256(reversed)).toBe(payloadSha256(inv));
    expect(payloadSha256({ ...inv, extraction: reversed.extraction })).toBe(payloadSha256(inv));
    const other = { ...reversed, lines: reversed.lines.map((l) => ({ ...l, quantity: 2 })) };
    expect(payloadSha256(other)).not.toBe(payloadSha256(inv));
  });

  it('matches a fingerprint stored with the lines hashed as sent, only for that order', () => {
    const legacy = canonicalSha256(reversed);
    expect(fingerprintMatches(legacy, reversed, payloadSha256(reversed))).toBe(true);
    expect(fingerprintMatches(legacy, inv, payloadSha256(inv))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { auditRowHash } from '../store/audit.js';
import { canonicalJson, canonicalSha256, sha256Hex } from './canonical.js';

describe('canonical JSON and its sha256', () => {
  it('sorts keys at every depth, without whitespace, and refuses what has no JSON form', () => {
    expect(canonicalJson({ z: 1, a: [{ y: 'é', b: null }], m: { c: 2, b: 1.5 } })).toBe(
      '{"a":[{"b":null,"y":"é"}],"m":{"b":1.5,"c":2},"z":1}',
    );
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(canonicalSha256({ b: 2, a: 1 })).toBe(sha256Hex('{"a":1,"b":2}'));
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('keeps the audit chain hash of a fixed entry (existing chains must still verify)', () => {
    // Pinned from the chain code before canonical hashing moved to core/: never change it.
    const row = {
      tenantId: 'default',
      seq: 7,
      ts: '2026-11-29T10:00:00.000Z',
      actorKeyId: 'key-1',
      kind: 'invoice.scored',
      subjectId: 'dec-1',
      payloadSha256: 'a'.repeat(64),
    } as Parameters<typeof auditRowHash>[0];
    expect(auditRowHash(row, 'b'.repeat(64))).toBe(
      'e1dbfcfde7d7e0bbcf9ac4dca1bb1ad76d80f234f29edc1968ad440546079848',
    );
  });
});

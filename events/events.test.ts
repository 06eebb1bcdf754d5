import { describe, expect, it } from 'vitest';
import {
  addressRefusal,
  guardedLookup,
  newWebhookSecret,
  secretBox,
  signWebhook,
  targetRefusal,
  urlRefusal,
  verifyWebhook,
} from './index.js';

const strict = { allowLoopback: false, allowPrivate: false };
const loopback = { allowLoopback: true, allowPrivate: false };

describe('webhook URL safety', () => {
  it('classifies addresses: public unicast only, loopback and private ranges by flag', () => {
    expect(addressRefusal('93.184.216.34', strict)).toBeNull();
    expect(addressRefusal('2606:4700::1111', strict)).toBeNull();
    expect(addressRefusal('127.0.0.1', strict)).toMatch(/loopback/);
    expect(addressRefusal('127.0.0.1', loopback)).toBeNull();
    expect(addressRefusal('::ffff:10.0.0.1', strict)).toMatch(/private/);
    expect(addressRefusal('169.254.169.254', strict)).toMatch(/linkLocal/);
    expect(addressRefusal('100.64.0.1', strict)).toMatch(/carrierGradeNat/);
    expect(addressRefusal('fd00::1', strict)).toMatch(/uniqueLocal/);
    expect(addressRefusal('10.0.0.1', { allowLoopback: false, allowPrivate: true })).toBeNull();
    expect(addressRefusal('0.0.0.0', { allowLoopback: true, allowPrivate: true })).toMatch(/unspecified/);
    expect(addressRefusal('224.0.0.1', { allowLoopback: true, allowPrivate: true })).toMatch(/multicast/);
  });

  it('refuses http except to loopback when allowed, credentials and fragments', () => {
    expect(urlRefusal('https://hooks.example.org/x', strict)).toBeNull();
    expect(urlRefusal('http://hooks.example.org/x', loopback)).toMatch(/https/);
    expect(urlRefusal('http://127.0.0.1:8080/x', strict)).toMatch(/not enabled/);
    expect(urlRefusal('http://127.0.0.1:8080/x', loopback)).toBeNull();
    expect(urlRefusal('http://[::1]:8080/x', loopback)).toBeNull();
    expect(urlRefusal('https://localhost/x', strict)).toMatch(/loopback/);
    expect(urlRefusal('https://u:p@hooks.example.org/x', strict)).toMatch(/credentials/);
    expect(urlRefusal('https://hooks.example.org/x#frag', strict)).toMatch(/fragment/);
    expect(urlRefusal('ftp://hooks.example.org/x', strict)).toMatch(/https/);
    expect(urlRefusal('hooks.example.org', strict)).toMatch(/absolute/);
  });

  it('checks every address a name resolves to', async () => {
    const resolveTo =
      (...addrs: string[]) =>
      async () =>
        addrs.map((address) => ({ address, family: 4 }));
    expect(await targetRefusal('https://a.example/x', strict, resolveTo('93.184.216.34'))).toBeNull();
    expect(await targetRefusal('https://a.example/x', strict, resolveTo('93.184.216.34', '10.1.1.1'))).toBe(
      'resolves to an address in the private range',
    );
    expect(await targetRefusal('https://a.example/x', strict, resolveTo('0.0.0.0'))).toBe(
      'resolves to an address in the unspecified range',
    );
    const fails = async () => {
      throw new Error('ENOTFOUND');
    };
    expect(await targetRefusal('https://a.example/x', strict, fails)).toBe('host does not resolve');
  });

  it('the connection lookup refuses a name that resolves to a forbidden address', async () => {
    const look = (policy: typeof strict) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        guardedLookup(policy)('localhost', {}, (err, address) => resolve({ err, address })),
      );
    const refused = await look(strict);
    expect(refused.err?.code).toBe('ETARGETREFUSED');
    const allowed = await look(loopback);
    expect(allowed.err).toBeNull();
    expect(String(allowed.address)).toMatch(/^(127\.|::1)/);
  });
});

describe('webhook signatures and secrets', () => {
  it('signs timestamp.body with HMAC-SHA256 and verifies within the replay window only', async () => {
    const secret = 'whsec_test';
    const body = '{"id":"e1"}';
    const sig = signWebhook(secret, 1_700_000_000, body);
    // Independent computation of the same HMAC.
    const { createHmac } = await import('node:crypto');
    expect(sig).toBe('v1=' + createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex'));
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
    const ok = { secret, body, timestamp: '1700000000', signature: sig, nowSeconds: 1_700_000_100 };
    expect(verifyWebhook(ok)).toBe(true);
    expect(verifyWebhook({ ...ok, nowSeconds: 1_700_000_301 })).toBe(false);
    expect(verifyWebhook({ ...ok, body: body + ' ' })).toBe(false);
    expect(verifyWebhook({ ...ok, timestamp: '1700000001' })).toBe(false);
    expect(verifyWebhook({ ...ok, secret: 'whsec_other' })).toBe(false);
  });

  it('encrypts secrets with AES-256-GCM bound to the subscription id', () => {
    const box = secretBox(Buffer.alloc(32, 9));
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const sealed = box.seal(secret, 'sub-1');
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, 'sub-1')).toBe(secret);
    expect(() => box.open(sealed, 'sub-2')).toThrow();
    expect(() => secretBox(Buffer.alloc(32, 8)).open(sealed, 'sub-1')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'sub-1')).toThrow();
    expect(() => secretBox(Buffer.alloc(16))).toThrow(RangeError);
  });
});

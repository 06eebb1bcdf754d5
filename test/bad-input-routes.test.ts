/**
 * Bad input that must be refused before it reaches PostgreSQL (else a 500): NUL
 * characters in bodies, path and query parameters of every route; integer query parameters
 * beyond bigint; a line whose quantity x unit price overflows, line amounts whose sum does, a
 * quantity too small to bill; route-neutral wording of generic
 * problems and the path of a forbidden `__proto__` key. Each must be a 4xx problem+json naming
 * the field, and store nothing.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { MAX_ABS_CENTS, MIN_ABS_QUANTITY } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness, type KeyName } from './harness.js';
import { rowCounts } from './jobs-harness.js';

interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: { path: string; message: string }[];
}

describe.each(engines('badroutes'))('bad input on every route on $name', ({ config }) => {
  let h: Harness;
  let decisionId: string;
  const cfg = config();

  beforeAll(async () => {
    h = await startHarness(cfg);
    decisionId = (await h.scoreOk(makeInvoice({ invoice_id: 'nul-decision' }))).decision_id;
  });
  afterAll(async () => h.close());

  /** Counts of the tables the routes below write. */
  async function counts(): Promise<Record<string, number>> {
    const t = (await h.wired.repo.audit.list('default', { afterSeq: 0, limit: 100_000 })).length;
    const keys = (await h.wired.repo.keys.list('default')).length;
    const reviews = (await h.wired.repo.reviews.listForDecision('default', decisionId)).length;
    return { audit: t, keys, reviews, ...(await rowCounts(h.wired)) };
  }

  /** Sends the request; expects a 400 problem+json naming `path`, and nothing stored. */
  async function refused(key: KeyName, opts: InjectOptions, path: string): Promise<Problem> {
    const before = await counts();
    const res = await h.call(key, opts);
    const where = `${opts.method} ${opts.url} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
    expect(res.statusCode, where).toBe(400);
    expect(res.headers['content-type'], where).toMatch(/^application\/problem\+json/);
    const p = res.json<Problem>();
    expect(
      (p.errors ?? []).map((e) => e.path),
      where,
    ).toContain(path);
    expect(await counts(), `${where}: stored something`).toEqual(before);
    return p;
  }

  /** `PUT /v1/vendors/<vendorId>` (already URL-encoded) with the given name. */
  const putVendor = (vendorId: string, name: string): InjectOptions => ({
    method: 'PUT',
    url: `/v1/vendors/${vendorId}`,
    payload: { name, category: 'dme', approved_betos: [], approved_hcpcs_prefixes: [] },
  });

  describe('NUL characters', () => {
    it('are refused in bodies before the store, naming the field', async () => {
      await refused(
        'admin',
        { method: 'POST', url: '/v1/keys', payload: { name: 'a\u0000b', roles: ['auditor'] } },
        '/name',
      );
      await refused('admin', putVendor('V-100', 'a\u0000'), '/name');
      await refused(
        'reviewer',
        {
          method: 'POST',
          url: '/v1/reviews',
          payload: {
            decision_id: decisionId,
            outcome: 'confirmed',
            duplicate_of: 'a\u0000b',
            idempotency_key: 'nul-review',
          },
        },
        '/duplicate_of',
      );
      // Nested in an array, and in a property name.
      await refused(
        'admin',
        { method: 'POST', url: '/v1/keys', payload: { name: 'ok', roles: ['auditor\u0000'] } },
        '/roles/0',
      );
      await refused(
        'admin',
        { method: 'POST', url: '/v1/keys', payload: { name: 'ok', roles: ['auditor'], 'x\u0000': 1 } },
        '/x\\u0000',
      );
    });

    it('blank names (invisible characters only) are refused, naming the field', async () => {
      for (const blank of ['   ', '\u200b', '\u034f\ufe0f', '\u3164\u115f', '\u2800']) {
        await refused(
          'admin',
          { method: 'POST', url: '/v1/keys', payload: { name: blank, roles: ['auditor'] } },
          '/name',
        );
        await refused('admin', putVendor('V-101', blank), '/name');
      }
    });

    it("a received_date after the service's today plus one day is refused on score", async () => {
      const late = makeInvoice({ invoice_id: 'late-received', received_date: '2199-12-31' });
      await refused(
        'workflow',
        { method: 'POST', url: '/v1/invoices/score', payload: late },
        '/received_date',
      );
    });

    it('are refused in path parameters', async () => {
      await refused('admin', putVendor('V%00X', 'Acme'), '/params/vendor_id');
      // The vendor-id rule of invoices' vendor.id: a blank id is refused, nothing audited.
      for (const blank of ['%E2%80%8B', '%20%20']) {
        const p = await refused('admin', putVendor(blank, 'Acme'), '/params/vendor_id');
        expect(p.errors).toEqual([
          { path: '/params/vendor_id', message: 'must not be blank (only spaces or invisible characters)' },
        ]);
        await refused('admin', { method: 'GET', url: `/v1/vendors/${blank}` }, '/params/vendor_id');
      }
      await refused('admin', { method: 'GET', url: '/v1/vendors/V%00X' }, '/params/vendor_id');
      // A look-alike of V-100 (a right-to-left override inside), as a vendor route's id or an invoice's.
      await refused('admin', putVendor('V-%E2%80%AE001', 'Acme'), '/params/vendor_id');
      const rlo = { method: 'POST', url: '/v1/invoices/score' } as const;
      const vendor = { id: 'V-\u202e001', name: 'Acme' };
      await refused('workflow', { ...rlo, payload: makeInvoice({ vendor }) }, '/vendor/id');
      const named = makeInvoice({ vendor: { id: 'V-100', name: 'Acme \u202eseilppuS' } }); // "Acme Supplies"
      await refused('workflow', { ...rlo, payload: named }, '/vendor/name');
      await refused('admin', putVendor('V-100', 'Acme \u202eseilppuS'), '/name');
      // The same rule for the other texts a person reads: key names, ERP reasons.
      const key = { method: 'POST', url: '/v1/keys' } as const;
      await refused('admin', { ...key, payload: { name: 'ops \u2067nimda', roles: ['workflow'] } }, '/name');
      const callback = { invoice_id: 'nul-decision', status: 'rejected', idempotency_key: 'bidi-1' };
      for (const field of ['reason_code', 'reason_text'])
        await refused(
          'erp',
          { method: 'POST', url: '/v1/erp/callbacks', payload: { ...callback, [field]: 'ok \u202edesiver' } },
          `/${field}`,
        );
    });

    it('too long, are refused naming the parameter on every route with path parameters', async () => {
      const long = 'V'.repeat(300);
      const p = await refused('admin', { method: 'GET', url: `/v1/vendors/${long}` }, '/params/vendor_id');
      expect(p.errors).toEqual([{ path: '/params/vendor_id', message: 'is longer than 100 characters' }]);
      const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{
        paths: Record<string, Record<string, unknown>>;
      }>();
      let routes = 0;
      for (const [path, methods] of Object.entries(doc.paths)) {
        const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        if (names.length === 0) continue;
        for (const method of Object.keys(methods)) {
          routes++;
          const url = path.replace(/\{\w+\}/g, long);
          const res = await h.app.inject({ method: method.toUpperCase() as 'GET', url });
          const where = `${method} ${path} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
          expect(res.statusCode, where).toBe(400);
          expect(
            res.json<Problem>().errors?.map((e) => e.path),
            where,
          ).toEqual(names.map((n) => `/params/${n}`));
        }
      }
      expect(routes).toBeGreaterThanOrEqual(8);
    });

    it('an unknown query parameter is refused naming it on every GET route and a write route', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{
        paths: Record<string, Record<string, unknown>>;
      }>();
      const ignored: string[] = [];
      let routes = 0;
      for (const [path, methods] of Object.entries(doc.paths)) {
        if (!('get' in methods) || !path.startsWith('/v1/')) continue;
        routes++;
        const url = `${path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000')}?zz_unknown=1`;
        // The first key the route lets in (authorisation is checked before the query).
        let res = await h.call(null, { method: 'GET', url });
        for (const key of ['admin', 'auditor', 'reviewer', 'workflow', 'ds', 'erp'] as const) {
          res = await h.call(key, { method: 'GET', url });
          if (res.statusCode !== 403) break;
        }
        const errors = res.statusCode === 400 ? (res.json<Problem>().errors ?? []) : [];
        if (!errors.some((e) => e.path === '/querystring/zz_unknown'))
          ignored.push(`${path} -> ${res.statusCode}`);
      }
      expect(ignored).toEqual([]);
      expect(routes).toBeGreaterThanOrEqual(20);
      // A write route too: a client's `?dry_run=true` must not store a decision unseen.
      const url = '/v1/invoices/score?dry_run=true';
      const dry = makeInvoice({ invoice_id: 'dry-run' });
      await refused('workflow', { method: 'POST', url, payload: dry }, '/querystring/dry_run');
    });

    it('are refused in query parameters', async () => {
      await refused(
        'auditor',
        { method: 'GET', url: '/v1/audit?subject_id=a%00b' },
        '/querystring/subject_id',
      );
      // Not percent-encoded UTF-8 (was read as the literal text "%FF", 200).
      for (const bad of ['%FF', '%', '%ED%A0%80', 'a%C3'])
        await refused(
          'auditor',
          { method: 'GET', url: `/v1/audit?subject_id=${bad}` },
          '/querystring/subject_id',
        );
    });
  });

  describe('C0 control characters other than tab, line feed and carriage return', () => {
    const BEL_MESSAGE =
      'contains the control character \\u0007: only tab, line feed and carriage return are allowed';

    it('are refused in every text field of an invoice, naming it, nothing stored', async () => {
      const inv = makeInvoice({ invoice_id: 'c0-invoice' });
      inv.lines[0]!.description = 'Wheelchair\u0007 rental';
      const p = await refused(
        'workflow',
        { method: 'POST', url: '/v1/invoices/score', payload: inv },
        '/lines/0/description',
      );
      expect(p.errors).toEqual([{ path: '/lines/0/description', message: BEL_MESSAGE }]);
      for (const [field, edit] of [
        ['/vendor/name', { vendor: { ...inv.vendor, name: 'Acme\u001b[31m' } }],
        ['/invoice_number', { invoice_number: 'INV\u0008-1' }],
        ['/po_number', { po_number: 'PO\u000b7' }],
        ['/invoice_id', { invoice_id: 'c0\u0001' }],
      ] as const) {
        const bad = { ...makeInvoice({ invoice_id: 'c0-field' }), ...edit };
        await refused('workflow', { method: 'POST', url: '/v1/invoices/score', payload: bad }, field);
      }
    });

    it('tab, line feed and carriage return in free text are accepted', async () => {
      const inv = makeInvoice({ invoice_id: 'c0-allowed' });
      inv.lines[0]!.description = 'Wheelchair\trental\r\nmonthly';
      const r = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
      expect(r.statusCode, r.body).toBe(200);
    });

    it('are refused in other bodies, property names, path and query parameters', async () => {
      await refused('admin', putVendor('V-100', 'Acme\u0007'), '/name');
      await refused(
        'admin',
        { method: 'POST', url: '/v1/keys', payload: { name: 'ok', roles: ['auditor'], 'x\u001f': 1 } },
        '/x\\u001f',
      );
      const p = await refused('admin', putVendor('V%07X', 'Acme'), '/params/vendor_id');
      expect(p.detail).not.toContain('\u0007');
      await refused(
        'auditor',
        { method: 'GET', url: '/v1/audit?subject_id=a%1Bb' },
        '/querystring/subject_id',
      );
    });
  });

  describe('integer query parameters', () => {
    it('beyond the safe integer range are refused naming the parameter', async () => {
      for (const v of ['99999999999999999999999', '9223372036854775808', '9223372036854775807', '1e300']) {
        await refused(
          'auditor',
          { method: 'GET', url: `/v1/audit?after_seq=${v}` },
          '/querystring/after_seq',
        );
      }
      const ok = await h.call('auditor', {
        method: 'GET',
        url: `/v1/audit?after_seq=${Number.MAX_SAFE_INTEGER}`,
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().items).toEqual([]);
    });

    it('with a fraction are refused naming the parameter, not truncated', async () => {
      await refused('auditor', { method: 'GET', url: '/v1/audit?after_seq=1.5' }, '/querystring/after_seq');
    });

    it('written with an exponent or a decimal point are refused as in a body, not read as 1000', async () => {
      for (const [query, path] of [
        ['after_seq=1e3', '/querystring/after_seq'],
        ['after_seq=1000.0', '/querystring/after_seq'],
        ['limit=1E2', '/querystring/limit'],
      ]) {
        const p = await refused('auditor', { method: 'GET', url: `/v1/audit?${query}` }, path!);
        expect(p.errors?.find((e) => e.path === path)?.message).toBe(
          'must be written as an integer numeral (e.g. 2, not 2.0 or 2e0)',
        );
      }
    });
  });

  describe('content-encoding', () => {
    it('a compressed body is refused with 415 naming the header, nothing stored', async () => {
      const before = await counts();
      const res = await h.call('workflow', {
        method: 'POST',
        url: '/v1/invoices/score',
        payload: gzipSync(JSON.stringify(makeInvoice({ invoice_id: 'gz-1' }))),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      expect(res.statusCode, res.body).toBe(415);
      expect(res.json<Problem>().errors?.map((e) => e.path)).toEqual(['/headers/content-encoding']);
      expect(await counts()).toEqual(before);
    });
  });

  describe('quantity x unit price', () => {
    const bigLine = (quantity: number, unit: number, amount: number) => ({
      line_number: 1,
      description: 'Oxygen concentrator',
      quantity,
      unit_price_cents: unit,
      amount_cents: amount,
    });

    it('refuses a line whose extended amount exceeds the money limit, naming unit_price_cents', async () => {
      const inv = {
        ...makeInvoice({ invoice_id: 'overflow-1' }),
        lines: [bigLine(1_000_000, MAX_ABS_CENTS, MAX_ABS_CENTS)],
        total_cents: MAX_ABS_CENTS,
      };
      const p = await refused(
        'workflow',
        { method: 'POST', url: '/v1/invoices/score', payload: inv },
        '/lines/0/unit_price_cents',
      );
      expect(p.code).toBe('TRIAGE_INPUT_INVALID');
    });

    it('refuses lines whose |amounts| sum beyond the money limit (/lines) and a quantity of 1e-300', async () => {
      const big = 9_000_000_000_000;
      const summed = {
        ...makeInvoice({ invoice_id: 'overflow-sum' }),
        lines: [1, 2, 3].map((n) => ({ ...bigLine(1, big, big), line_number: n })),
        total_cents: big,
      };
      await refused('workflow', { method: 'POST', url: '/v1/invoices/score', payload: summed }, '/lines');
      const tiny = makeInvoice({ invoice_id: 'tiny-quantity' });
      tiny.lines[0] = { ...tiny.lines[0]!, quantity: 1e-300 };
      await refused(
        'workflow',
        { method: 'POST', url: '/v1/invoices/score', payload: tiny },
        '/lines/0/quantity',
      );
    });

    it('refuses a negative tax amount on an invoice, naming tax_cents', async () => {
      const p = await refused(
        'workflow',
        {
          method: 'POST',
          url: '/v1/invoices/score',
          payload: makeInvoice({ invoice_id: 'neg-tax', tax_cents: -500 }),
        },
        '/tax_cents',
      );
      expect(p.code).toBe('TRIAGE_INPUT_INVALID');
    });

    it('scores every line within the limits, however large its amounts and gaps (property)', async () => {
      let n = 0;
      const cents = fc.oneof(
        fc.constantFrom(MAX_ABS_CENTS, -MAX_ABS_CENTS, 0, 1),
        fc.integer({ min: -MAX_ABS_CENTS, max: MAX_ABS_CENTS }),
      );
      const qty = fc.oneof(
        fc.constantFrom(1_000_000, -1_000_000, 1, 0.5, 0),
        fc.double({ min: -1_000_000, max: 1_000_000, noNaN: true }),
      );
      await fc.assert(
        fc.asyncProperty(qty, cents, cents, cents, async (quantity, unit, amount, total) => {
          n++;
          const inv = {
            ...makeInvoice({ invoice_id: `overflow-p-${n}`, invoice_number: `OV-${n}` }),
            lines: [bigLine(quantity, unit, amount)],
            total_cents: total,
          };
          const res = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
          const where = `q=${quantity} unit=${unit} amount=${amount} total=${total}: ${res.statusCode} ${res.body.slice(0, 300)}`;
          if (Math.abs(quantity * unit) > MAX_ABS_CENTS) {
            expect(res.statusCode, where).toBe(400);
            expect(res.json<Problem>().errors?.[0]?.path, where).toBe('/lines/0/unit_price_cents');
          } else if (quantity !== 0 && Math.abs(quantity) < MIN_ABS_QUANTITY) {
            expect(res.statusCode, where).toBe(400);
            expect(res.json<Problem>().errors?.[0]?.path, where).toBe('/lines/0/quantity');
          } else {
            expect(res.statusCode, where).toBe(200);
          }
        }),
        { seed: 20_250_702, numRuns: cfg.engine === 'pglite' ? 40 : 15, endOnFailure: true },
      );
    });

    it('accepts the extreme line a fresh user sent once its product is within the limit', async () => {
      const inv = {
        ...makeInvoice({ invoice_id: 'overflow-edge' }),
        lines: [bigLine(1_000_000, MAX_ABS_CENTS / 1_000_000, MAX_ABS_CENTS)],
        total_cents: -MAX_ABS_CENTS,
      };
      const res = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
      expect(res.statusCode, res.body).toBe(200);
    });

    it('stores the priority of a many-line invoice at the limits (beyond numeric(14, 2) dollars)', async () => {
      // The sum of |line amounts| is within the limit; each line's gap to quantity x unit price is not.
      const inv = {
        ...makeInvoice({ invoice_id: 'overflow-lines' }),
        lines: Array.from({ length: 100 }, (_, i) => ({
          ...bigLine(1, MAX_ABS_CENTS, MAX_ABS_CENTS / 100),
          line_number: i + 1,
        })),
        total_cents: -MAX_ABS_CENTS,
      };
      const res = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      const d = res.json<{ priority: number; decision_id: string }>();
      expect(d.priority).toBeGreaterThan(1e12);
      const got = await h.call('workflow', { method: 'GET', url: `/v1/decisions/${d.decision_id}` });
      expect(got.json<{ priority: number }>().priority).toBe(d.priority);
    });
  });

  describe('generic problems are route-neutral', () => {
    it('415 and schema errors on a non-invoice route do not talk about invoices', async () => {
      const wrongType = await h.call('admin', {
        method: 'POST',
        url: '/v1/keys',
        payload: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(wrongType.statusCode).toBe(415);
      expect(wrongType.json<Problem>().detail).not.toMatch(/invoice/i);
      const bad = await refused(
        'admin',
        { method: 'POST', url: '/v1/keys', payload: { name: 1, roles: ['auditor'] } },
        '/name',
      );
      expect(`${bad.title} ${bad.detail}`).not.toMatch(/invoice/i);
    });

    it('refuses a repeated key, naming its JSON pointer, on every JSON route', async () => {
      const invoice = JSON.stringify(makeInvoice({ invoice_id: 'dup-key-1' }));
      const twice = invoice.replace('"total_cents":', '"total_cents":1,"total_cents":');
      const json = { 'content-type': 'application/json' };
      const score = await refused(
        'workflow',
        { method: 'POST', url: '/v1/invoices/score', payload: twice, headers: json },
        '/total_cents',
      );
      expect(score.detail).toMatch(/repeats a key/);
      const line = invoice.replace('"quantity":', '"quantity":3,"quantity":');
      await refused(
        'workflow',
        { method: 'POST', url: '/v1/invoices/score', payload: line, headers: json },
        '/lines/0/quantity',
      );
      const res = await h.call('admin', {
        method: 'POST',
        url: '/v1/keys',
        payload: '{"name":"a","roles":["auditor"],"name":"b"}',
        headers: json,
      });
      expect(res).toBeProblem(400, 'TRIAGE_REQUEST_INVALID', '/name');
    });

    it('refuses bytes that are not UTF-8, naming the byte offset, instead of replacing them', async () => {
      const invoice = JSON.stringify(
        makeInvoice({ invoice_id: 'utf8-1', vendor: { id: 'V-1', name: 'Caf#' } }),
      );
      const at = Buffer.byteLength(invoice.slice(0, invoice.indexOf('#')));
      const bytes = Buffer.from(invoice);
      bytes[at] = 0xe9; // Latin-1 'é': not UTF-8 on its own
      const p = await refused(
        'workflow',
        {
          method: 'POST',
          url: '/v1/invoices/score',
          payload: bytes,
          headers: { 'content-type': 'application/json' },
        },
        '/',
      );
      expect(p.code).toBe('TRIAGE_REQUEST_INVALID');
      expect(p.errors?.[0]?.message).toBe(`holds a byte that is not UTF-8 at byte offset ${at}`);
      expect(p.detail).toContain(`byte ${at} (0xe9)`);
    });

    it('names a forbidden __proto__ key at its path', async () => {
      const top = await refused(
        'admin',
        {
          method: 'POST',
          url: '/v1/keys',
          payload: '{"name":"x","roles":["auditor"],"__proto__":{"admin":true}}',
          headers: { 'content-type': 'application/json' },
        },
        '/__proto__',
      );
      expect(top.code).toBe('TRIAGE_REQUEST_INVALID');
      const nested = await h.call('workflow', {
        method: 'POST',
        url: '/v1/invoices/score',
        payload: JSON.stringify(makeInvoice({ invoice_id: 'proto-1' })).replace(
          '"vendor":{',
          '"vendor":{"__proto__":{"x":1},',
        ),
        headers: { 'content-type': 'application/json' },
      });
      expect(nested.statusCode).toBe(400);
      expect(nested.json<Problem>().errors?.map((e) => e.path)).toContain('/vendor/__proto__');
      const ctor = await h.call('workflow', {
        method: 'POST',
        url: '/v1/invoices/score',
        payload: '{"constructor":{"prototype":{"x":1}}}',
        headers: { 'content-type': 'application/json' },
      });
      expect(ctor.statusCode).toBe(400);
      expect(ctor.json<Problem>().errors?.map((e) => e.path)).toContain('/constructor/prototype');
    });
  });
});

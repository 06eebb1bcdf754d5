/**
 * Intake end to end: each sample format (X12 810, UBL 2.1, FHIR R4) scored through
 * `POST /v1/invoices/score`, `POST /v1/batches` and the CLI gives, field by field, the decision
 * of its JSON twin (ids, timestamps and `source` aside), in tenants of their own on a real
 * store; the decision records the format and the document's sha256; a bad document stores
 * nothing.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { fhirInvoice, writeX12, x12InvoiceId } from '../datasets/intake-writers.js';
import { scoreFile } from '../bin/cli.js';
import { engines } from './fixtures.js';
import { startStack, waitFor, type Stack } from './jobs-harness.js';

const samples = join(dirname(fileURLToPath(import.meta.url)), '../datasets/samples/intake');
const readTwins = (name: string): Invoice[] =>
  readFileSync(join(samples, name), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Invoice);
const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/** A decision without what differs between two stores or tenants: ids, timestamps, source. */
function comparable(d: unknown): unknown {
  if (Array.isArray(d)) return d.map(comparable);
  if (d !== null && typeof d === 'object')
    return Object.fromEntries(
      Object.entries(d)
        .filter(([k]) => !['decision_id', 'created_at', 'source'].includes(k))
        .map(([k, v]) => [k, comparable(v)]),
    );
  return d;
}

const TWINS = readTwins('hcpcs_invoices.twin.jsonl');

describe.each(engines('intake'))('intake through the API on $name', { timeout: 300_000 }, ({ config }) => {
  let s: Stack;
  const post = (tenant: string, url: string, payload: string | object, contentType = 'application/json') =>
    s.app.inject({
      method: 'POST',
      url,
      payload,
      headers: { 'content-type': contentType, 'x-test-tenant': tenant },
    });
  const scoreAs = async (
    tenant: string,
    payload: string | object,
    contentType?: string,
  ): Promise<DecisionResponse> => {
    const r = await post(tenant, '/v1/invoices/score', payload, contentType);
    if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${r.body}`);
    return r.json<DecisionResponse>();
  };
  /** Decisions of the JSON twins, scored in order in their own tenant. */
  const jsonDecisions = new Map<string, DecisionResponse[]>();
  const twinDecisions = async (tenant: string, twins: Invoice[]): Promise<DecisionResponse[]> => {
    if (!jsonDecisions.has(tenant)) {
      const out: DecisionResponse[] = [];
      for (const t of twins) out.push(await scoreAs(tenant, t));
      jsonDecisions.set(tenant, out);
    }
    return jsonDecisions.get(tenant)!;
  };

  beforeAll(async () => {
    s = await startStack(config(), { batches: { bodyLimitBytes: 4 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('UBL: each sample document scores like its JSON twin and records ubl-2.1 with its sha256', async () => {
    const json = await twinDecisions('json', TWINS);
    for (const [i, t] of TWINS.entries()) {
      const doc = readFileSync(join(samples, 'ubl', `${t.invoice_id}.xml`), 'utf8');
      const d = await scoreAs('ubl', doc, 'application/xml');
      expect(comparable(d), t.invoice_id).toEqual(comparable(json[i]));
      expect(d.source).toEqual({
        format: 'ubl-2.1',
        sha256: sha256(doc),
        document_ref: expect.stringMatching(/^UBL /),
      });
    }
    expect(json.map((d) => d.decision)).toContain('HOLD');
    expect(json.at(-1)!.reverses?.invoice_id).toBe('hc-2025-0001');
  });

  it('FHIR: each Invoice resource scores like its JSON twin', async () => {
    const json = await twinDecisions('json', TWINS);
    for (const [i, t] of TWINS.entries()) {
      const d = await scoreAs('fhir', JSON.stringify(fhirInvoice(t)), 'application/fhir+json');
      expect(comparable(d), t.invoice_id).toEqual(comparable(json[i]));
      expect(d.source?.format).toBe('fhir-r4');
    }
  });

  it('X12: one-invoice interchanges score like their JSON twins', async () => {
    const docs = TWINS.map((t, i) => {
      const o = { sender: 'HCEXCHANGE', control: i + 1 };
      return { doc: writeX12([t], o), twin: { ...t, invoice_id: x12InvoiceId(o, 1) } };
    });
    const json = await twinDecisions(
      'json-x12',
      docs.map((d) => d.twin),
    );
    for (const [i, { doc, twin }] of docs.entries()) {
      const d = await scoreAs('x12', doc, 'application/edi-x12');
      expect(comparable(d), twin.invoice_id).toEqual(comparable(json[i]));
      expect(d.source).toEqual({
        format: 'x12-810',
        sha256: sha256(doc),
        document_ref: `ISA13 ${String(i + 1).padStart(9, '0')} / ST02 0001`,
      });
    }
  });

  it('POST /v1/batches takes the 61-invoice X12 interchange and the FHIR Bundle, with the JSON twins decisions', async () => {
    const x12Twins = readTwins('hcpcs_invoices.x12.twin.jsonl');
    const cases: [string, string, string, Invoice[]][] = [
      ['x12b', 'hcpcs_invoices.x12', 'application/edi-x12', x12Twins],
      ['fhirb', 'hcpcs_invoices.fhir.json', 'application/fhir+json', TWINS],
    ];
    for (const [tenant, file, type, twins] of cases) {
      const json = await twinDecisions(`batch-json-${tenant}`, twins);
      const r = await post(tenant, '/v1/batches', readFileSync(join(samples, file)).toString('utf8'), type);
      expect(r.statusCode, r.body).toBe(202);
      const id = r.json<{ batch_id: string }>().batch_id;
      await waitFor(`batch ${tenant} completed`, async () => {
        await s.settle();
        const st = await s.app.inject({
          method: 'GET',
          url: `/v1/batches/${id}`,
          headers: { 'x-test-tenant': tenant },
        });
        return st.json<{ state: string }>().state === 'completed';
      });
      const res = await s.app.inject({
        method: 'GET',
        url: `/v1/batches/${id}/results?limit=500`,
        headers: { 'x-test-tenant': tenant },
      });
      const items = res.json<{ items: { state: string; decision: DecisionResponse }[] }>().items;
      expect(items.map((x) => x.state)).toEqual(twins.map(() => 'done'));
      items.forEach((x, i) =>
        expect(comparable(x.decision), twins[i]!.invoice_id).toEqual(comparable(json[i])),
      );
    }
  });

  it('FHIR: a Money.value a double cannot hold is a 400 naming it, as UBL and X12 amounts are, and stores nothing', async () => {
    const before = await s.counts();
    const doc = JSON.stringify(fhirInvoice(TWINS[0]!));
    // As written the total has digits below the cent that JSON.parse rounds away (it reads 1).
    const lossy = doc.replace(/"totalGross":\{"value":[0-9.]+/, '"totalGross":{"value":1.0000000000000001');
    expect(lossy).not.toBe(doc);
    const r = await post('fhirlossy', '/v1/invoices/score', lossy, 'application/fhir+json');
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/totalGross/value');
    expect(r.json<{ errors: { message: string }[] }>().errors[0]!.message).toMatch(
      /below the minor unit of USD .*more significant digits than a JSON number read as a double keeps/,
    );
    expect(await s.counts()).toEqual(before);
  });

  it('a document with one bad invoice stores nothing; other routes answer 415; one route takes one invoice', async () => {
    const before = await s.counts();
    const good = readFileSync(join(samples, 'hcpcs_invoices.x12'), 'utf8');
    const bad = good.replace('IT1*1*1*UN*47.66', 'IT1*1*1*UN*47.6.6');
    const r = await post('x12bad', '/v1/batches', bad, 'application/edi-x12');
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    const [e] = r.json<{ errors: { path: string; message: string }[] }>().errors;
    expect(e!.path).toMatch(/^\/segments\/\d+\/IT104$/);
    expect(e!.message).toMatch(/^invoice \d+ of 61 \(ST02 \d{4} \(segment \d+\)\): is not an X12 R number/);
    // An unknown CUR02 (in place of the first PID) is refused, not dropped.
    const zzq = good.replace(/PID\*[^~]*~/, 'CUR*SE*ZZQ~');
    const cur = await post('x12bad', '/v1/batches', zzq, 'application/edi-x12');
    expect(cur.statusCode).toBe(400);
    expect(cur.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([
      {
        path: expect.stringMatching(/^\/segments\/\d+\/CUR02$/),
        message: expect.stringMatching(
          /^invoice 1 of 61 .*: \(ZZQ\) is not an active ISO 4217 currency code /,
        ),
      },
    ]);
    const many = await post('x12bad', '/v1/invoices/score', good, 'application/edi-x12');
    expect(many.statusCode).toBe(400);
    expect(many.json<{ detail: string }>().detail).toContain('carries 61 invoices');
    const policy = await s.app.inject({
      method: 'PUT',
      url: '/v1/policy',
      payload: '<Invoice/>',
      headers: { 'content-type': 'application/xml' },
    });
    // A type no route reads, on the scoring route: the 415 lists every type it takes, not JSON alone.
    const csv = await s.app.inject({
      method: 'POST',
      url: '/v1/invoices/score',
      payload: 'invoice_id,total_cents\n1,2\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(csv).toBeProblem(415, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED', '/headers/content-type');
    expect(csv.json<{ errors: { message: string }[] }>().errors[0]!.message).toBe(
      'is none of application/json, application/edi-x12, application/xml, application/fhir+json',
    );
    // Named like every 415: the header, with the media type this route refuses.
    expect(policy).toBeProblem(415, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED', '/headers/content-type');
    expect(policy.json<{ errors: { message: string }[] }>().errors[0]!.message).toBe(
      'is application/xml, which this route does not accept',
    );
    expect(await s.counts()).toEqual(before);
  });
});

describe('intake through the CLI', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'intake-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (files: string[], name: string) => {
    const out = join(dir, `${name}.jsonl`);
    const summary = await scoreFile(files, { store: { engine: 'pglite' }, models: null, out });
    const decisions = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DecisionResponse);
    return { summary, decisions };
  };

  it('scores the X12 interchange and the FHIR Bundle with the decisions of their JSON twins', async () => {
    const twin = await run([join(samples, 'hcpcs_invoices.twin.jsonl')], 'twin');
    const fhir = await run([join(samples, 'hcpcs_invoices.fhir.json')], 'fhir');
    expect(fhir.summary.invalid).toEqual([]);
    expect(comparable(fhir.decisions)).toEqual(comparable(twin.decisions));
    const x12 = await run([join(samples, 'hcpcs_invoices.x12')], 'x12');
    expect(x12.decisions).toHaveLength(61);
    expect(new Set(x12.decisions.map((d) => d.source?.format))).toEqual(new Set(['x12-810']));
    // The X12 twins are the JSON twins with the interchange's invoice ids: map them back.
    const original = new Map(
      readTwins('hcpcs_invoices.x12.twin.jsonl').map((t, i) => [t.invoice_id, TWINS[i]!.invoice_id]),
    );
    const renamed = JSON.parse(
      JSON.stringify(x12.decisions).replace(/HCEXCHANGE-000000017-\d{4}/g, (id) => original.get(id) ?? id),
    ) as unknown;
    expect(comparable(renamed)).toEqual(comparable(twin.decisions));
  });

  it('scores UBL files like their twins, and reports a document that does not convert without scoring it', async () => {
    const subset = [...TWINS.slice(0, 5), TWINS.at(-1)!];
    const twinFile = join(dir, 'subset.jsonl');
    writeFileSync(twinFile, subset.map((t) => JSON.stringify(t)).join('\n') + '\n');
    const bad = join(dir, 'bad.fhir.json');
    writeFileSync(bad, JSON.stringify({ resourceType: 'Patient' }));
    const twin = await run([twinFile], 'subset-twin');
    const ubl = await run([...subset.map((t) => join(samples, 'ubl', `${t.invoice_id}.xml`)), bad], 'ubl');
    expect(comparable(ubl.decisions)).toEqual(comparable(twin.decisions));
    expect(ubl.summary.invalid).toEqual([
      { location: bad, errors: [expect.stringMatching(/^\/resourceType /)] },
    ]);
  });
});

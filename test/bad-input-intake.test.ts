/**
 * Bad intake documents, generated (fast-check, fixed seed): malformed X12 810 interchanges
 * (truncated ISA, wrong SE/GE/IEA counts, unknown qualifiers, dropped or repeated segments,
 * stray bytes), UBL documents (DTDs and entity bombs, undefined entities, truncation, unknown
 * codes, deep nesting) and FHIR resources (wrong resource types, wrong JSON types, truncation)
 * against `POST /v1/invoices/score` and `POST /v1/batches`. Each must get a 4xx problem+json
 * (never a 5xx) naming where (`errors[].path`), or a 2xx when the mutation left the document
 * valid; a refused request stores nothing (row counts before and after).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fhirInvoice, writeUbl, writeX12 } from '../datasets/intake-writers.js';
import { engines, makeInvoice } from './fixtures.js';
import { postToDocumentRoutes, startStack, type Stack } from './jobs-harness.js';

const SEED = 17_017;
const RUNS = 40;

const invoice = makeInvoice({ invoice_id: 'bad-intake-0', invoice_number: 'BI-0' });
const X12 = writeX12([invoice], { sender: 'BADINTAKE', control: 1 });
const UBL = writeUbl(invoice);
const FHIR = fhirInvoice(invoice);

/** Mutations of an X12 interchange (segments split on `~`). */
const x12Mutation: fc.Arbitrary<(doc: string) => string> = fc.oneof(
  fc.nat({ max: 105 }).map((n) => (doc: string) => doc.slice(0, n)), // truncated ISA
  fc.nat().map((n) => (doc: string) => doc.slice(0, 106 + (n % (doc.length - 106)))), // truncated anywhere
  fc
    .integer({ min: 0, max: 99 })
    .map((k) => (doc: string) => doc.replace(/SE\*\d+\*/, `SE*${k === 11 ? 12 : k}*`)),
  fc
    .constantFrom('GE*2*1~', 'GE*1*9~', 'IEA*2*000000001~', 'IEA*1*000000009~')
    .map((bad) => (doc: string) => doc.replace(bad.startsWith('GE') ? /GE\*[^~]*~/ : /IEA\*[^~]*~/, bad)),
  fc
    .tuple(
      fc.constantFrom('N1*VN', 'REF*PO', 'DTM*472', '*HC*', 'PID*F', 'ST*810', 'GS*IN', 'BIG*2'),
      fc.stringMatching(/^[A-Z0-9]{2,3}$/),
    )
    .map(
      ([from, q]) =>
        (doc: string) =>
          doc.replace(from, from.replace(/[A-Z0-9]{2,3}(?=\*?$)/, q)),
    ),
  fc.nat().map((n) => (doc: string) => {
    const segs = doc.split('~');
    segs.splice(n % segs.length, 1);
    return segs.join('~');
  }),
  fc.nat().map((n) => (doc: string) => {
    const segs = doc.split('~');
    const i = n % segs.length;
    segs.splice(i, 0, segs[i]!);
    return segs.join('~');
  }),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 8 })).map(
    ([n, junk]) =>
      (doc: string) =>
        doc.slice(0, n % doc.length) + junk + doc.slice(n % doc.length),
  ),
);

const BOMB =
  '<!DOCTYPE Invoice [<!ENTITY a "aaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>';

/** Mutations of a UBL document. */
const ublMutation: fc.Arbitrary<(doc: string) => string> = fc.oneof(
  fc.constant((doc: string) => doc.replace('?>', `?>${BOMB}`).replace('<cbc:ID>BI-0', '<cbc:ID>&c;')),
  fc.constant((doc: string) => doc.replace('?>', '?><!DOCTYPE Invoice SYSTEM "file:///etc/passwd">')),
  fc.constant((doc: string) =>
    doc.replace('?>', '?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "http://127.0.0.1/x">]>'),
  ),
  fc.stringMatching(/^[a-z]{1,8}$/).map((e) => (doc: string) => doc.replace('BI-0', `&${e};`)),
  fc.nat().map((n) => (doc: string) => doc.slice(0, n % doc.length)),
  fc.stringMatching(/^[0-9]{3}$/).map((code) => (doc: string) => doc.replace('>380<', `>${code}<`)),
  fc
    .stringMatching(/^[A-Z]{2,6}$/)
    .map((id) => (doc: string) => doc.replaceAll('listID="HCPCS"', `listID="${id}"`)),
  fc
    .integer({ min: 30, max: 200 })
    .map((d) => (doc: string) => doc.replace('<cbc:ID>BI-0</cbc:ID>', '<x>'.repeat(d) + '</x>'.repeat(d))),
  fc
    .string({ maxLength: 12 })
    .map((t) => (doc: string) => doc.replace('>200.00<', `>${t.replace(/[<&]/g, '')}<`)),
  fc.constantFrom('<Order xmlns="urn:x"/>', '<Invoice/>', '', '<?xml version="1.0"?>').map((d) => () => d),
);

/** Mutations of a FHIR Invoice resource (applied to a deep copy). */
const fhirMutation: fc.Arbitrary<(doc: Record<string, unknown>) => unknown> = fc.oneof(
  fc
    .constantFrom('Claim', 'Patient', 'ChargeItem', 'Bundle', '', 42, null)
    .map((t) => (d: Record<string, unknown>) => ({ ...d, resourceType: t })),
  fc
    .tuple(
      fc.constantFrom('lineItem', 'identifier', 'issuer', 'totalGross', 'date', 'contained', 'type'),
      fc.constantFrom<unknown>('x', 7, null, [], {}, true),
    )
    .map(([k, v]) => (d: Record<string, unknown>) => ({ ...d, [k]: v })),
  fc
    .tuple(
      fc.constantFrom('sequence', 'priceComponent', 'chargeItemCodeableConcept'),
      fc.constantFrom<unknown>('x', -1, null, [], [{ type: 'nope' }]),
    )
    .map(([k, v]) => (d: Record<string, unknown>) => ({
      ...d,
      lineItem: [{ ...(d.lineItem as object[])[0], [k]: v }],
    })),
  fc
    .constantFrom('urn:nope', 'http://loinc.org')
    .map(
      (system) => (d: Record<string, unknown>) =>
        JSON.parse(
          JSON.stringify(d).replace('http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', system),
        ) as unknown,
    ),
  fc.constant((d: Record<string, unknown>) => ({
    resourceType: 'Bundle',
    entry: [{ resource: d }, { resource: { resourceType: 'Patient' } }],
  })),
);

describe.each(engines('badintake'))('bad intake documents on $name', { timeout: 600_000 }, ({ config }) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(config());
  });
  afterAll(async () => {
    await s.close();
  });

  /** Posts a document to both routes; 4xx problem+json naming where, or 2xx; never a 5xx; refusals store nothing. */
  async function check(body: string, contentType: string): Promise<void> {
    await postToDocumentRoutes(s, body, contentType, async (r, url, before) => {
      expect(r.statusCode, `${url}: ${r.body}`).toBeLessThan(500);
      if (r.statusCode >= 400) {
        expect(r.headers['content-type']).toContain('application/problem+json');
        const p = r.json<{ code: string; errors?: { path: string }[] }>();
        if (p.code === 'TRIAGE_INPUT_INVALID' || p.code === 'TRIAGE_REQUEST_INVALID')
          expect(p.errors?.[0]?.path, r.body).toMatch(/^\//);
        expect(await s.counts()).toEqual(before);
      }
    });
  }

  it('X12 810: truncated ISA, wrong SE/GE/IEA counts, unknown qualifiers, dropped/repeated segments, stray bytes', async () => {
    await fc.assert(
      fc.asyncProperty(x12Mutation, async (m) => check(m(X12), 'application/edi-x12')),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('UBL: DTDs, entity bombs, external entities, undefined entities, truncation, unknown codes, deep nesting', async () => {
    await fc.assert(
      fc.asyncProperty(ublMutation, async (m) => check(m(UBL), 'application/xml')),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('numbers: a UBL decimal comma and an X12 number written with a space are refused at the element', async () => {
    for (const [body, type, path] of [
      [
        UBL.replace('>15.00<', '>15,00<'),
        'application/xml',
        '/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount',
      ],
      [
        UBL.replace('>1</cbc:InvoicedQuantity>', '>1,0</cbc:InvoicedQuantity>'),
        'application/xml',
        '/Invoice/cac:InvoiceLine[1]/cbc:InvoicedQuantity',
      ],
      [X12.replace('*UN*15.00*', '*UN* 15.00*'), 'application/edi-x12', '/segments/11/IT104'],
    ] as const)
      await postToDocumentRoutes(s, body, type, async (r, url, before) => {
        expect(r.statusCode, `${url}: ${r.body}`).toBe(400);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(
          r.json<{ errors: { path: string }[] }>().errors.map((e) => e.path),
          url,
        ).toContain(path);
        expect(await s.counts()).toEqual(before);
      });
  });

  it('FHIR: resources of the wrong type, wrong JSON types, unknown code systems, truncated JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fhirMutation, fc.nat(), async (m, cut) => {
        const doc = JSON.stringify(m(structuredClone(FHIR)));
        await check(cut % 4 === 0 ? doc.slice(0, cut % doc.length) : doc, 'application/fhir+json');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

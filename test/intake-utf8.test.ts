/**
 * Intake documents are decoded strictly as UTF-8 (core/utf8.ts), like JSON bodies: an X12 or UBL
 * document holding a byte that is not UTF-8 is a 400 naming the byte offset and the segment
 * (X12) or line (UBL), on the scoring and the batch route, and stores nothing; a UBL document
 * declaring another encoding, or a body declaring another charset, is refused naming it. A
 * replacing decoder had stored such text with U+FFFD (the trial's finding).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeUbl, writeX12 } from '../datasets/intake-writers.js';
import { engines, makeInvoice } from './fixtures.js';
import { postToDocumentRoutes, startStack, type Stack } from './jobs-harness.js';

interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
}

const invoice = makeInvoice({ invoice_id: 'utf8-intake-0', invoice_number: 'UTF-0' });
const X12 = writeX12([invoice], { sender: 'UTF8INTAKE', control: 1 });
const UBL = writeUbl(invoice);

/** `text` as UTF-8 with the byte 0xe9 (Latin-1 'é', not UTF-8 on its own) in place of the first `at`. */
function withLatin1Byte(text: string, at: string): { doc: Buffer; offset: number } {
  const i = text.indexOf(at);
  expect(i).toBeGreaterThan(0);
  const before = Buffer.from(text.slice(0, i));
  return {
    doc: Buffer.concat([before, Buffer.from([0xe9]), Buffer.from(text.slice(i + at.length))]),
    offset: before.length,
  };
}

describe.each(engines('utf8intake'))('intake documents decoded strictly as UTF-8 on $name', ({ config }) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(config());
  });
  afterAll(async () => s.close());

  /** Posts `body` to both document routes; expects `status` problem+json and nothing stored. */
  async function refused(body: Buffer, contentType: string, status = 400): Promise<Problem[]> {
    const out: Problem[] = [];
    await postToDocumentRoutes(s, body, contentType, async (r, url, before) => {
      expect(r.statusCode, `${url}: ${r.body}`).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(await s.counts(), `${url} stored something`).toEqual(before);
      out.push(r.json<Problem>());
    });
    return out;
  }

  it('X12: a byte that is not UTF-8 is a 400 naming the segment, element and byte offset', async () => {
    const { doc, offset } = withLatin1Byte(X12, 'Oxygen'); // "Oxygen concentrator": PID05 of segment 10
    for (const p of await refused(doc, 'application/edi-x12')) {
      expect(p.code).toBe('TRIAGE_INPUT_INVALID');
      expect(p.errors).toEqual([
        {
          path: '/segments/10/PID05',
          message: `holds a byte that is not UTF-8 at byte offset ${offset} (0xe9)`,
        },
      ]);
    }
  });

  it('X12: a byte that is not UTF-8 inside the ISA names the ISA', async () => {
    const { doc } = withLatin1Byte(X12, 'UTF8INTAKE');
    for (const p of await refused(doc, 'application/edi-x12'))
      expect(p.errors?.[0]?.path).toBe('/segments/1/ISA');
  });

  it('UBL declaring UTF-8: a byte that is not UTF-8 is a 400 naming the byte offset and line', async () => {
    const { doc, offset } = withLatin1Byte(UBL, ', Inc.');
    const line = UBL.slice(0, UBL.indexOf(', Inc.')).split('\n').length;
    for (const p of await refused(doc, 'application/xml'))
      expect(p.errors).toEqual([
        {
          path: '/',
          message: `holds a byte that is not UTF-8 at byte offset ${offset} (0xe9) on line ${line}`,
        },
      ]);
  });

  it('UBL declaring ISO-8859-1 is refused naming the encoding, its text never stored altered', async () => {
    const latin1 = Buffer.from(
      UBL.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(', Inc.', ', Inc. \u00e9\u00e8'),
      'latin1',
    );
    for (const p of await refused(latin1, 'application/xml'))
      expect(p.errors).toEqual([
        {
          path: '/',
          message:
            'declares encoding="ISO-8859-1"; only UTF-8 documents are read (convert the document to UTF-8)',
        },
      ]);
    // The same, all ASCII (nothing to misread), is refused too: the declaration says what the bytes are.
    const ascii = Buffer.from(UBL.replace('encoding="UTF-8"', "encoding='latin1'"));
    for (const p of await refused(ascii, 'application/xml'))
      expect(p.errors?.[0]?.message).toMatch(/^declares encoding="latin1"/);
  });

  it('a document body declaring a charset other than UTF-8 is a 415 naming the header', async () => {
    for (const [body, type] of [
      [X12, 'application/edi-x12'],
      [UBL, 'application/xml'],
    ] as const)
      for (const p of await refused(Buffer.from(body), `${type}; charset=iso-8859-1`, 415))
        expect(p.errors?.[0]?.path).toBe('/headers/content-type');
  });

  it('UTF-8 text in a document is read as sent', async () => {
    const named = makeInvoice({
      invoice_id: 'utf8-intake-1',
      invoice_number: 'UTF-1',
      vendor: { ...invoice.vendor, name: 'Médical Supply, Inc.' },
    });
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/invoices/score',
      payload: Buffer.from(writeUbl(named)),
      headers: { 'content-type': 'application/xml; charset=utf-8' },
    });
    expect(r.statusCode, r.body).toBe(200);
    const got = await s.app.inject({
      method: 'GET',
      url: `/v1/decisions/${r.json<{ decision_id: string }>().decision_id}/invoice`,
    });
    expect(got.body).toContain('Médical Supply, Inc.');
  });
});

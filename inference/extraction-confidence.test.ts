import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { pairSideOfInvoice } from '../features/pair.js';
import type { CandidateInvoice } from '../store/repository.js';
import { makeInvoice } from '../test/fixtures.js';
import { wire, type Wired } from '../bin/bootstrap.js';
import { assessDuplicates } from './duplicate-detector.js';
import { extractionConfidenceReasons, lowConfidenceFields } from './extraction-confidence.js';
import { createHeuristicDuplicateScorer } from './heuristic-duplicate.js';
import { DEFAULT_POLICY, parsePolicyDocument, DEFAULT_POLICY_DOCUMENT } from './policy.js';

const EXTRACTOR = { name: 'ocr-x', version: '2.1' };

describe('extraction confidence', () => {
  it('names each checked field below its group threshold, line confidence capping its fields', () => {
    const inv = makeInvoice({
      extraction: {
        extractor: EXTRACTOR,
        fields: { invoice_number: 0.95, total_cents: 0.5, vendor_name: 0.89, invoice_date: 0.1 },
        lines: [
          { line_number: 2, code: 0.79, quantity: 0.99, line: 0.95 },
          { line_number: 1, line: 0.7 },
        ],
      },
    });
    expect(lowConfidenceFields(inv, DEFAULT_POLICY.extraction)).toEqual([
      { field: '/total_cents', group: 'amounts', confidence: 0.5, threshold: 0.9 },
      { field: '/vendor/name', group: 'vendor', confidence: 0.89, threshold: 0.9 },
      { field: '/lines/1/code', group: 'codes', confidence: 0.79, threshold: 0.8 },
      { field: '/lines/0/quantity', group: 'amounts', confidence: 0.7, threshold: 0.9 },
      { field: '/lines/0/unit_price_cents', group: 'amounts', confidence: 0.7, threshold: 0.9 },
      { field: '/lines/0/amount_cents', group: 'amounts', confidence: 0.7, threshold: 0.9 },
      { field: '/lines/0/code', group: 'codes', confidence: 0.7, threshold: 0.8 },
      { field: '/lines/0/modifiers', group: 'codes', confidence: 0.7, threshold: 0.8 },
    ]);
    const [r] = extractionConfidenceReasons(inv, DEFAULT_POLICY.extraction);
    expect(r).toMatchObject({
      code: 'LOW_EXTRACTION_CONFIDENCE',
      weight: 0.5,
      evidence: { extractor: 'ocr-x@2.1' },
    });
    // Fields the extractor is sure of, or did not report, raise nothing.
    expect(
      extractionConfidenceReasons(
        makeInvoice({ extraction: { extractor: EXTRACTOR, fields: { total_cents: 0.99 } } }),
      ),
    ).toEqual([]);
    expect(extractionConfidenceReasons(makeInvoice())).toEqual([]);
  });

  it('reads thresholds from the policy document', () => {
    const doc = parsePolicyDocument({
      ...DEFAULT_POLICY_DOCUMENT,
      extraction: { min_confidence: { amounts: 0.4, invoice_number: 0.9, vendor: 0.9, codes: 0.8 } },
    });
    const inv = makeInvoice({ extraction: { extractor: EXTRACTOR, fields: { total_cents: 0.5 } } });
    expect(extractionConfidenceReasons(inv, doc.extraction!.min_confidence)).toEqual([]);
    expect(() => parsePolicyDocument({ ...doc, extraction: { min_confidence: { amounts: 2 } } })).toThrow();
  });

  it('refuses confidence outside [0, 1] and lines the invoice does not have', () => {
    const bad = {
      ...makeInvoice(),
      extraction: { extractor: EXTRACTOR, fields: { total_cents: 1.5 }, lines: [{ line_number: 9 }] },
    };
    expect(() => validateInvoice(bad)).toThrow(/extraction\/fields\/total_cents/);
    const badLine = { ...makeInvoice(), extraction: { extractor: EXTRACTOR, lines: [{ line_number: 9 }] } };
    expect(() => validateInvoice(badLine)).toThrow(/\/extraction\/lines\/0\/line_number names no line/);
  });

  it('refuses two confidence entries for one line: which would hold is not said', () => {
    const line = makeInvoice().lines[0]!.line_number;
    const twice = {
      ...makeInvoice(),
      extraction: {
        extractor: EXTRACTOR,
        lines: [
          { line_number: line, line: 0.95 },
          { line_number: line, code: 0.3 },
        ],
      },
    };
    expect(() => validateInvoice(twice)).toThrow(
      /\/extraction\/lines\/1\/line_number duplicates line_number of \/extraction\/lines\/0/,
    );
  });
});

describe('duplicate check on a low-confidence invoice number', () => {
  const scorer = createHeuristicDuplicateScorer();
  const earlier = makeInvoice({ invoice_id: 'earlier', invoice_number: 'INV-1008' });
  const f = extractInvoiceFeatures(earlier);
  const side = pairSideOfInvoice(earlier, f);
  const cand: CandidateInvoice = {
    ...side,
    invoiceId: 'earlier',
    decisionId: 'd-earlier',
    decision: 'AUTO_APPROVE',
    vendorName: earlier.vendor.name,
    invoiceNumber: earlier.invoice_number,
    currency: earlier.currency,
    lineMatchKeys: [...side.lineMatchKeys],
    embeddingDistance: 0.01,
    sources: ['vendor_knn'],
    approval: 'auto_approved',
    reversedCents: 0,
    reversedBy: [],
  };
  // The same invoice again, its number misread by OCR into another number.
  const misread = makeInvoice({ invoice_id: 'again', invoice_number: 'LNV-7009' });
  const assess = (uncertain: boolean) =>
    assessDuplicates(
      misread,
      pairSideOfInvoice(misread, extractInvoiceFeatures(misread)),
      [cand],
      scorer,
      0.3,
      uncertain,
    );

  it('scores the pair also with the number neutralised and keeps the higher score', async () => {
    const plain = await assess(false);
    const leaning = await assess(true);
    expect(plain.scored[0]!.invoiceNumberNeutralised).toBeUndefined();
    expect(leaning.scored[0]!.invoiceNumberNeutralised).toBe(true);
    expect(leaning.scored[0]!.score).toBeGreaterThan(plain.scored[0]!.score);
    expect(leaning.scored[0]!.comparison.invoiceNumberEqual).toBe(false); // evidence keeps the real comparison
  });

  it('keeps the compared score when neutralising does not raise it', async () => {
    const same = makeInvoice({ invoice_id: 'same', invoice_number: 'INV-1008' });
    const r = await assessDuplicates(
      same,
      pairSideOfInvoice(same, extractInvoiceFeatures(same)),
      [cand],
      scorer,
      0.3,
      true,
    );
    expect(r.scored[0]!.invoiceNumberNeutralised).toBeUndefined();
  });
});

describe('scoring pipeline with extraction confidence', () => {
  let w: Wired;
  beforeAll(async () => {
    w = await wire({ engine: 'pglite' }, { models: null });
  });
  afterAll(async () => {
    await w.repo.close();
  });

  it('routes an otherwise clean invoice with a low-confidence total to AP review naming the field', async () => {
    const low: Invoice = makeInvoice({
      invoice_id: 'ec-1',
      vendor: { id: 'V-EC1', name: 'Lakeside Medical Supply' },
      extraction: { extractor: EXTRACTOR, fields: { total_cents: 0.42 } },
    });
    const { decision } = await w.scoring.score(low);
    expect(decision.decision).toBe('REVIEW');
    expect(decision.queue).toBe('ap');
    expect(decision.reasons.map((x) => x.code)).toEqual(['LOW_EXTRACTION_CONFIDENCE']);
    expect(decision.reasons[0]!.evidence.fields).toEqual([
      { field: '/total_cents', group: 'amounts', confidence: 0.42, threshold: 0.9 },
    ]);
  });

  it('flags a resubmission whose misread number hides it, only when the number is uncertain', async () => {
    const pair = async (id: string, name: string, confidence?: number) => {
      const first = makeInvoice({ invoice_id: `${id}-1`, vendor: { id: `V-${id}`, name } });
      await w.scoring.score(first);
      return w.scoring.score({
        ...first,
        invoice_id: `${id}-2`,
        invoice_number: 'LNV-7009',
        ...(confidence === undefined
          ? {}
          : { extraction: { extractor: EXTRACTOR, fields: { invoice_number: confidence } } }),
      });
    };
    const sure = await pair('ecs', 'Harbor Oxygen Services');
    const unsure = await pair('ecu', 'Summit Respiratory Care', 0.3);
    expect(unsure.decision.scores.duplicate).toBeGreaterThan(sure.decision.scores.duplicate);
    const dup = unsure.decision.reasons.find((x) => x.code.startsWith('DUPLICATE_'));
    expect(dup?.evidence).toMatchObject({ duplicate_of: 'ecu-1', invoice_number_neutralised: true });
    expect(unsure.decision.reasons.map((x) => x.code)).toContain('LOW_EXTRACTION_CONFIDENCE');
  });
});

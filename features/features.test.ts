import { describe, expect, it } from 'vitest';
import {
  cosine,
  describeEdits,
  descriptionTokens,
  editScript,
  extractIndexFeatures,
  extractInvoiceFeatures,
  featureSchemaVersion,
  FEATURE_SCHEMA,
  hashedNgramEmbedding,
  isValidNpi,
  normaliseInvoiceNumber,
  normaliseVendorName,
} from './index.js';
import { makeInvoice } from '../test/fixtures.js';

describe('normaliseVendorName', () => {
  it('drops legal suffixes, punctuation and parenthesised parts', () => {
    expect(normaliseVendorName('MR. D.I.Y. (M) SDN BHD')).toBe('mr diy');
    expect(normaliseVendorName('Acme Medical Supply, Inc.')).toBe('acme medical supply');
    expect(normaliseVendorName('ACME MEDICAL SUPPLY INC')).toBe('acme medical supply');
    expect(normaliseVendorName('Acme Medical Supply L.L.C.')).toBe('acme medical supply');
    expect(normaliseVendorName('B & BEST RESTAURANT')).toBe('b and best restaurant');
  });

  it('keeps distinguishing business words (no false merge on "Enterprise")', () => {
    expect(normaliseVendorName('Lim Enterprise')).not.toBe(normaliseVendorName('Tan Enterprise'));
    expect(normaliseVendorName('Lim Enterprise')).toBe('lim enterprise');
  });
});

describe('normaliseInvoiceNumber', () => {
  it('removes prefixes, separators and leading zeros', () => {
    expect(normaliseInvoiceNumber('INV-0001008').normalised).toBe('1008');
    expect(normaliseInvoiceNumber('No. 1008').normalised).toBe('1008');
    expect(normaliseInvoiceNumber('#1008').normalised).toBe('1008');
  });

  it('folds OCR confusables in the canonical form only', () => {
    const a = normaliseInvoiceNumber('INV-10O8');
    const b = normaliseInvoiceNumber('INV-1008');
    expect(a.normalised).not.toBe(b.normalised);
    expect(a.canonical).toBe(b.canonical);
    expect(normaliseInvoiceNumber('INV-0O1B').canonical).toBe('18'); // 0O1B -> 0018 -> leading zeros stripped
    expect(normaliseInvoiceNumber('S5-IL|').canonical).toBe('55111');
  });
});

describe('editScript', () => {
  it('gives the exact minimal edit', () => {
    expect(editScript('INV-1008', 'INV-10O8')).toEqual([
      { op: 'substitute', position: 6, from: '0', to: 'O' },
    ]);
    expect(describeEdits(editScript('1008', '10089'))).toBe("insert '9' at 4");
    expect(describeEdits(editScript('A1008', '1008'))).toBe("delete 'A' at 0");
    expect(editScript('same', 'same')).toEqual([]);
    // Code points, not UTF-16 units: an emoji is one character and is never split.
    expect(editScript('INV-1', 'INV-🦽')).toEqual([{ op: 'substitute', position: 4, from: '1', to: '🦽' }]);
  });
});

describe('isValidNpi', () => {
  it('checks the Luhn digit with the 80840 prefix', () => {
    expect(isValidNpi('1234567893')).toBe(true); // CMS example NPI
    expect(isValidNpi('1234567890')).toBe(false);
    expect(isValidNpi('123456789')).toBe(false);
  });
});

describe('text and embeddings', () => {
  it('expands abbreviations, drops stop words and stems', () => {
    expect(descriptionTokens('O2 Conc w/ humidifier')).toEqual(['oxygen', 'concentr', 'humidifi']);
    expect(descriptionTokens('Inj, ceftriaxone sodium, per 250 mg')).toEqual([
      'inject',
      'ceftriaxon',
      'sodium',
      '250',
      'mg',
    ]);
  });

  it('produces deterministic unit vectors where similar text is closer', () => {
    const a = hashedNgramEmbedding('oxygen concentrator single delivery port');
    const b = hashedNgramEmbedding('oxygen concentrator, single port');
    const c = hashedNgramEmbedding('standard wheelchair fixed arms');
    expect(a).toHaveLength(128);
    expect(cosine(a, a)).toBeCloseTo(1, 10);
    expect(hashedNgramEmbedding('oxygen concentrator single delivery port')).toEqual(a);
    expect(cosine(a, b)).toBeGreaterThan(0.6);
    expect(cosine(a, c)).toBeLessThan(0.3);
  });

  it('embeds a re-keyed resubmission next to its original', () => {
    const a = extractInvoiceFeatures(makeInvoice());
    const b = extractInvoiceFeatures(
      makeInvoice({
        invoice_id: 'x',
        invoice_number: 'INV-10O8',
        vendor: { id: 'V-100', name: 'ACME MEDICAL SUPPLY INC' },
      }),
    );
    const other = extractInvoiceFeatures(
      makeInvoice({
        vendor: { id: 'V-9', name: 'Northside Clinical Lab' },
        invoice_number: '77-1',
        total_cents: 999,
        lines: [
          {
            line_number: 1,
            description: 'Blood count; complete',
            quantity: 1,
            unit_price_cents: 999,
            amount_cents: 999,
          },
        ],
      }),
    );
    expect(cosine(a.embedding, b.embedding)).toBeGreaterThan(0.95);
    expect(cosine(a.embedding, other.embedding)).toBeLessThan(0.5);
    expect(a.invoiceNumber.canonical).toBe(b.invoiceNumber.canonical);
  });

  it('indexes an invoice by the same keys and embeddings as its full features', () => {
    const base = makeInvoice();
    const inv = makeInvoice({
      lines: [
        ...base.lines,
        {
          line_number: 3,
          description: 'Gauze pad sterile 4x4, 25/bx',
          quantity: 2,
          unit_price_cents: 90,
          amount_cents: 180,
        },
        {
          line_number: 4,
          description: 'O2 Conc w/ humidifier',
          quantity: 1,
          unit_price_cents: 700,
          amount_cents: 700,
        },
      ],
    });
    const full = extractInvoiceFeatures(inv);
    const index = extractIndexFeatures(inv);
    expect(index).toEqual({
      vendorKey: full.vendorKey,
      invoiceNumber: full.invoiceNumber,
      embedding: full.embedding,
      lines: full.lines.map((l) => ({
        lineNumber: l.lineNumber,
        descriptionNormalised: l.descriptionNormalised,
        embedding: l.embedding,
        matchKey: l.matchKey,
      })),
    });
    // Coded lines key on their code, the others on their first stems.
    expect(index.lines.map((l) => l.matchKey)).toEqual([
      'E1390|20000',
      'E0570|1500',
      '~gauz_pad_steril_4x4|180',
      '~oxygen_concentr_humidifi|700',
    ]);
  });

  it('versions the feature schema by content hash', () => {
    const v = featureSchemaVersion();
    expect(v).toMatch(/^fs-[0-9a-f]{12}$/);
    expect(
      featureSchemaVersion({ ...FEATURE_SCHEMA, embedding: { ...FEATURE_SCHEMA.embedding, dim: 64 } }),
    ).not.toBe(v);
  });
});

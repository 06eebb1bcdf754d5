import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, isTriageError } from '../core/errors.js';
import { SHIPPED_IDF_ID } from './idf.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { assertFeatureSchema, FEATURE_SCHEMA, featureSchemaVersion } from './schema.js';

describe('feature schema', () => {
  it('lists the line and pair vectors in model order, with units, and the embedding recipes', () => {
    // The shipped champions were trained on vectors in schema order: their specs name the inputs.
    const trained = (task: string): string[] =>
      (
        JSON.parse(
          readFileSync(join(packageRoot(), 'models', 'artifacts', task, '1', 'spec.json'), 'utf8'),
        ) as { featureNames: string[] }
      ).featureNames;
    expect(FEATURE_SCHEMA.line.map((f) => f.name)).toEqual(trained('coding-mismatch'));
    expect(FEATURE_SCHEMA.pair.map((f) => f.name)).toEqual(trained('duplicate'));
    expect(FEATURE_SCHEMA.line).toHaveLength(51);
    expect(FEATURE_SCHEMA.pair).toHaveLength(67);
    expect(
      [...FEATURE_SCHEMA.line, ...FEATURE_SCHEMA.pair].every((f) => f.unit !== '' && f.description !== ''),
    ).toBe(true);
    expect(FEATURE_SCHEMA.textEmbedding.idf).toBe(SHIPPED_IDF_ID);
    expect(FEATURE_SCHEMA.embedding.dim).toBe(128); // the store's vector(128) columns
    expect(FEATURE_SCHEMA.invoiceEmbedding.dim).toBe(128);
  });

  it('changes version when any part changes', () => {
    const v = featureSchemaVersion();
    expect(v).toMatch(/^fs-[0-9a-f]{12}$/);
    expect(featureSchemaVersion()).toBe(v);
    const variants = [
      { ...FEATURE_SCHEMA, revision: FEATURE_SCHEMA.revision + 1 },
      { ...FEATURE_SCHEMA, textEmbedding: { ...FEATURE_SCHEMA.textEmbedding, idf: 'idf-000000000000' } },
      { ...FEATURE_SCHEMA, textEmbedding: { ...FEATURE_SCHEMA.textEmbedding, charWeight: 0.5 } },
      { ...FEATURE_SCHEMA, pair: FEATURE_SCHEMA.pair.slice(1) },
      { ...FEATURE_SCHEMA, line: [...FEATURE_SCHEMA.line].reverse() },
    ];
    for (const s of variants) expect(featureSchemaVersion(s)).not.toBe(v);
  });
});

describe('assertFeatureSchema', () => {
  it('passes on the same version and throws TRIAGE_MODEL_SCHEMA_MISMATCH naming both otherwise', () => {
    expect(() => assertFeatureSchema(featureSchemaVersion())).not.toThrow();
    expect(() => assertFeatureSchema('fs-aaaaaaaaaaaa', 'fs-aaaaaaaaaaaa')).not.toThrow();
    let caught: unknown;
    try {
      assertFeatureSchema('fs-111111111111', 'fs-222222222222');
    } catch (e) {
      caught = e;
    }
    expect(isTriageError(caught, 'TRIAGE_MODEL_SCHEMA_MISMATCH')).toBe(true);
    expect((caught as Error).message).toContain('fs-111111111111');
    expect((caught as Error).message).toContain('fs-222222222222');
    expect(ERROR_CATALOG.TRIAGE_MODEL_SCHEMA_MISMATCH.status).toBe(409);
  });
});

import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, isTriageError } from '../core/errors.js';
import { SHIPPED_IDF_ID } from './idf.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { checkSignature, inputProjection } from '../models/signature.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { PAIR_VECTOR_NAMES } from './comparisons.js';
import {
  acceptedSchemaVersions,
  assertFeatureSchema,
  earlierVectorVersions,
  editionOfNames,
  FEATURE_CODE_REVISIONS,
  FEATURE_SCHEMA,
  featureSchemaVersion,
  PRE_SPLIT_SCHEMA_VERSIONS,
  vectorSchemaVersion,
} from './schema.js';

describe('feature schema', () => {
  it('lists the line and pair vectors in model order, with units, and the embedding recipes', () => {
    // The shipped champions were trained on vectors in schema order: their specs name the inputs.
    const champion = (task: string): string =>
      (
        JSON.parse(
          readFileSync(join(packageRoot(), 'models', 'artifacts', task, 'aliases.json'), 'utf8'),
        ) as {
          champion: string;
        }
      ).champion;
    const trained = (task: string): string[] =>
      (
        JSON.parse(
          readFileSync(join(packageRoot(), 'models', 'artifacts', task, champion(task), 'spec.json'), 'utf8'),
        ) as { featureNames: string[] }
      ).featureNames;
    // Each champion reads its vector's current edition or an earlier one (fewer features, by name).
    const editionOf = (task: 'coding-mismatch' | 'duplicate'): number | null =>
      editionOfNames(task === 'duplicate' ? 'pair' : 'line', trained(task));
    expect(editionOf('coding-mismatch')).toBe(3);
    expect(editionOf('duplicate')).toBe(4);
    expect(FEATURE_SCHEMA.pair.map((f) => f.name)).toEqual(PAIR_VECTOR_NAMES);
    expect(FEATURE_SCHEMA.line).toHaveLength(55);
    expect(FEATURE_SCHEMA.pair).toHaveLength(86);
    expect(
      [...FEATURE_SCHEMA.line, ...FEATURE_SCHEMA.pair].every((f) => f.unit !== '' && f.description !== ''),
    ).toBe(true);
    expect(FEATURE_SCHEMA.textEmbedding.idf).toBe(SHIPPED_IDF_ID);
    expect(FEATURE_SCHEMA.embedding.dim).toBe(128); // the store's vector(128) columns
    expect(FEATURE_SCHEMA.invoiceEmbedding.dim).toBe(128);
  });

  it('changes version when any part changes', () => {
    const v = featureSchemaVersion();
    // The whole-schema version decisions record (fs-ca204ebda249 until line revision 3,
    // fs-5d691c338bb0 at line revision 3, before line edition 4 and pair edition 3,
    // fs-66fb44041380 before line edition 5, fs-fc33f1c024cc before pair edition 4).
    expect(v).toBe('fs-553da169de83');
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

describe('per-vector schema versions', () => {
  const bump = (vector: 'line' | 'pair'): Record<'line' | 'pair', number> => ({
    ...FEATURE_CODE_REVISIONS,
    [vector]: FEATURE_CODE_REVISIONS[vector] + 1,
  });

  it('versions each vector on its own: a line change leaves the pair version alone and vice versa', () => {
    const line = vectorSchemaVersion('line');
    const pair = vectorSchemaVersion('pair');
    expect(line).toMatch(/^fs-[0-9a-f]{12}$/);
    expect(line).not.toBe(pair);
    expect(vectorSchemaVersion('line', FEATURE_SCHEMA, bump('line'))).not.toBe(line);
    expect(vectorSchemaVersion('pair', FEATURE_SCHEMA, bump('line'))).toBe(pair);
    expect(vectorSchemaVersion('pair', FEATURE_SCHEMA, bump('pair'))).not.toBe(pair);
    expect(vectorSchemaVersion('line', FEATURE_SCHEMA, bump('pair'))).toBe(line);
    const renamed = { ...FEATURE_SCHEMA, line: FEATURE_SCHEMA.line.slice(1) };
    expect(vectorSchemaVersion('pair', renamed)).toBe(pair);
    expect(vectorSchemaVersion('line', renamed)).not.toBe(line);
  });

  it('serves each task the version of its own vector; the shipped pre-split champions are accepted', () => {
    const served = servedFeatureSchemas();
    expect(served['coding-mismatch'].version).toBe(vectorSchemaVersion('line'));
    expect(served.duplicate.version).toBe(vectorSchemaVersion('pair'));
    const card = (task: string, v: string): { featureSchemaVersion: string } =>
      JSON.parse(readFileSync(join(packageRoot(), 'models', 'artifacts', task, v, 'card.json'), 'utf8')) as {
        featureSchemaVersion: string;
      };
    const dup = card('duplicate', '1').featureSchemaVersion;
    expect(dup).toBe('fs-ca204ebda249');
    expect(card('coding-mismatch', '2').featureSchemaVersion).toBe(dup);
    const pairNames = FEATURE_SCHEMA.pair.map((f) => f.name);
    const lineNames = FEATURE_SCHEMA.line.map((f) => f.name);
    // duplicate@1 and @2 read pair-vector edition 2: accepted with its names, not with edition 3's.
    const edition2 = earlierVectorVersions('pair')[0]!.names;
    expect(() =>
      checkSignature({ names: edition2, count: edition2.length, version: dup }, served.duplicate),
    ).not.toThrow();
    // The pre-split version is pair edition 2's: it wants edition 2's names.
    expect(() =>
      checkSignature({ names: pairNames, count: pairNames.length, version: dup }, served.duplicate),
    ).toThrow(/names differ in length/);
    // The line vector changed since (revision 3: the billing unit is no dose, no category medians;
    // edition 4 only added the printed-code features): the pre-split version, and every coding
    // model before coding-mismatch@4, is refused for coding.
    expect(FEATURE_CODE_REVISIONS.line).toBe(4);
    expect(() =>
      checkSignature({ names: lineNames, count: lineNames.length, version: dup }, served['coding-mismatch']),
    ).toThrow(/feature schema version fs-ca204ebda249/);
  });

  it('a line change retires the pre-split version for coding models only', () => {
    const line = bump('line');
    expect(acceptedSchemaVersions('line', FEATURE_SCHEMA, line)).toEqual([
      vectorSchemaVersion('line', FEATURE_SCHEMA, line),
    ]);
    const [pair2] = earlierVectorVersions('pair');
    expect([pair2!.version, ...pair2!.accepted]).toEqual(['fs-7b1f5698ee81', 'fs-ca204ebda249']);
    const lineNames = FEATURE_SCHEMA.line.map((f) => f.name);
    const signature = {
      names: lineNames,
      version: vectorSchemaVersion('line', FEATURE_SCHEMA, line),
      accepted: acceptedSchemaVersions('line', FEATURE_SCHEMA, line).slice(1),
    };
    expect(() =>
      checkSignature({ names: lineNames, count: lineNames.length, version: 'fs-ca204ebda249' }, signature),
    ).toThrow(/feature schema version fs-ca204ebda249/);
  });

  it('still refuses a model trained on another schema of its own vector', () => {
    const served = servedFeatureSchemas();
    const pairNames = FEATURE_SCHEMA.pair.map((f) => f.name);
    const otherPair = vectorSchemaVersion('pair', FEATURE_SCHEMA, bump('pair'));
    expect(() =>
      checkSignature({ names: pairNames, count: pairNames.length, version: otherPair }, served.duplicate),
    ).toThrow(/TRIAGE_MODEL_SIGNATURE_MISMATCH|feature schema version/);
    // Once the pair vector changes, the pre-split version is no longer equivalent and is refused.
    expect(acceptedSchemaVersions('pair', FEATURE_SCHEMA, bump('pair'))).toEqual([otherPair]);
    // Edition 3 is not the pre-split vector; edition 2 is, and keeps accepting it.
    expect(acceptedSchemaVersions('pair')).toEqual([vectorSchemaVersion('pair')]);
    const [pair2] = earlierVectorVersions('pair');
    expect([pair2!.version, ...pair2!.accepted]).toEqual([
      'fs-7b1f5698ee81',
      ...PRE_SPLIT_SCHEMA_VERSIONS.filter((p) => p.vector === 'pair').map((p) => p.version),
    ]);
    expect(acceptedSchemaVersions('line')).toEqual([vectorSchemaVersion('line')]);
  });
});

describe('earlier line versions served on a subset of today’s features', () => {
  const served = servedFeatureSchemas()['coding-mismatch'];
  const [rev3] = earlierVectorVersions('line');

  it('derives edition 3 from today’s features without those added since, hashed as it was', () => {
    expect(rev3!.edition).toBe(3);
    expect(rev3!.version).toBe('fs-d579c890ee23'); // coding-mismatch@4's card
    expect(rev3!.names).toEqual(FEATURE_SCHEMA.line.filter((f) => f.since === undefined).map((f) => f.name));
    expect(FEATURE_SCHEMA.line.filter((f) => f.since === 4).map((f) => f.name)).toEqual([
      'printed_code_present',
      'printed_code_differs',
    ]);
    expect(FEATURE_SCHEMA.line.filter((f) => f.since === 5).map((f) => f.name)).toEqual([
      'vendor_lines_log',
      'vendor_code_lines_log',
    ]);
    const [, rev4] = earlierVectorVersions('line');
    expect(rev4!.version).toBe('fs-cd7fafcf2f73'); // coding-mismatch@5's card
    expect(served.earlier).toEqual([
      { version: rev3!.version, accepted: [], names: rev3!.names },
      { version: rev4!.version, accepted: [], names: rev4!.names },
    ]);
  });

  it('accepts an earlier version only with its own names', () => {
    const names = FEATURE_SCHEMA.line.map((f) => f.name);
    const old = { names: rev3!.names, count: rev3!.names.length, version: rev3!.version };
    expect(() => checkSignature(old, served)).not.toThrow();
    expect(() => checkSignature({ ...old, names, count: names.length }, served)).toThrow(
      /names differ in length/,
    );
    expect(() => checkSignature({ ...old, version: 'fs-ded86bbdb3b7' }, served)).toThrow(
      /feature schema version fs-ded86bbdb3b7/,
    );
    expect(() =>
      checkSignature({ names, count: names.length, version: served.version! }, served),
    ).not.toThrow();
  });

  it('projects today’s vector onto an earlier model’s inputs by name', () => {
    const names = FEATURE_SCHEMA.line.map((f) => f.name);
    expect(inputProjection(names, names)).toBeNull();
    const p = inputProjection(rev3!.names, names)!;
    expect(Array.from(p)).toEqual(rev3!.names.map((n) => names.indexOf(n)));
    expect(() => inputProjection(['no_such_feature'], names)).toThrow(/no_such_feature/);
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

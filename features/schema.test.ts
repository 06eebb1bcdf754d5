import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, isTriageError } from '../core/errors.js';
import { SHIPPED_IDF_ID } from './idf.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { checkSignature, inputProjection } from '../models/signature.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import {
  acceptedSchemaVersions,
  assertFeatureSchema,
  earlierVectorVersions,
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
    // The coding champion reads today's line vector, or an earlier one restricted to its features.
    const lineNames = [
      FEATURE_SCHEMA.line.map((f) => f.name),
      ...earlierVectorVersions('line').map((e) => e.names),
    ];
    expect(lineNames).toContainEqual(trained('coding-mismatch'));
    expect(FEATURE_SCHEMA.pair.map((f) => f.name)).toEqual(trained('duplicate'));
    expect(FEATURE_SCHEMA.line).toHaveLength(53);
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
    // The whole-schema version decisions record (fs-ca204ebda249 until line revision 3,
    // fs-5d691c338bb0 at line revision 3).
    expect(v).toBe('fs-d01e7e3e4ed9');
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
    expect(() =>
      checkSignature({ names: pairNames, count: pairNames.length, version: dup }, served.duplicate),
    ).not.toThrow();
    // The line vector changed since (revision 3: the billing unit is no dose, no category medians;
    // revision 4 only added the printed-code features): the pre-split version, and every coding
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
    expect(acceptedSchemaVersions('pair', FEATURE_SCHEMA, line)).toEqual([
      vectorSchemaVersion('pair'),
      'fs-ca204ebda249',
    ]);
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
    expect(acceptedSchemaVersions('pair')).toEqual([
      vectorSchemaVersion('pair'),
      ...PRE_SPLIT_SCHEMA_VERSIONS.filter((p) => p.vector === 'pair').map((p) => p.version),
    ]);
    expect(acceptedSchemaVersions('line')).toEqual([vectorSchemaVersion('line')]);
  });
});

describe('earlier line versions served on a subset of today’s features', () => {
  const served = servedFeatureSchemas()['coding-mismatch'];
  const [rev3] = earlierVectorVersions('line');

  it('derives revision 3 from today’s features without those added since, hashed as it was', () => {
    expect(rev3!.revision).toBe(3);
    expect(rev3!.version).toBe('fs-d579c890ee23'); // coding-mismatch@4's card
    expect(rev3!.names).toEqual(FEATURE_SCHEMA.line.filter((f) => f.since === undefined).map((f) => f.name));
    expect(FEATURE_SCHEMA.line.filter((f) => f.since === 4).map((f) => f.name)).toEqual([
      'printed_code_present',
      'printed_code_differs',
    ]);
    expect(served.earlier).toEqual([{ version: rev3!.version, names: rev3!.names }]);
    // Once revision 3 is no longer listed, nothing earlier is served.
    expect(earlierVectorVersions('line', FEATURE_SCHEMA, { line: 3, pair: 2 })).toEqual([]);
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

/**
 * A registration audited `model.registered` whose version never became visible (the process
 * stopped between the audit entry and the rename) is accounted for by the next registration of
 * the name: it audits `model.registration_abandoned` naming the version and its `cardSha256`,
 * then takes the following number (models/registry-ledger.ts). The entries go to the service's
 * audit log (bin/models-governance.ts `modelAudit`) on PGlite and PostgreSQL, and the chain
 * verifies.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { modelAudit } from '../bin/models-governance.js';
import { ModelRegistry, type RegistryEvent } from '../models/registry.js';
import { retiredVersions } from '../models/registry-ledger.js';
import { createRepository, openDatabase, type TriageRepository } from '../store/index.js';
import { exportOnnx } from '../training/onnx-export.js';
import { engines } from './fixtures.js';
import { dropSchema } from './harness.js';
import { makeCardDraft, makeSpec } from './model-fixtures.js';

const NAME = 'coding-mismatch';

function trained(seed: number) {
  const spec = makeSpec({ seed });
  return { onnx: exportOnnx(spec), spec, card: makeCardDraft(spec) };
}

/** Stops a registration right after its audit entry, before the rename (a kill point). */
const stopAfterAudit = (s: string): void => {
  if (s === 'audited') throw new Error('stopped after the audit entry');
};

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'registry-abandoned-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each(engines('regabandon'))('an abandoned registration, audited on $name', ({ config }) => {
  const cfg = config();
  let repo: TriageRepository;
  beforeAll(async () => {
    repo = createRepository(await openDatabase(cfg));
  }, 120_000);
  afterAll(async () => {
    await repo?.close();
    await dropSchema(cfg);
  });

  it('is closed by model.registration_abandoned before the next number is taken; the chain verifies', async () => {
    const tenant = 'default';
    const audit = modelAudit(repo);
    const onEvent = (e: RegistryEvent) => audit(e, null, tenant);
    const stopped = new ModelRegistry({ root, onEvent, onStage: stopAfterAudit });
    await expect(stopped.register(NAME, { ...trained(1), actor: 'first' })).rejects.toThrow(
      'stopped after the audit entry',
    );
    const registry = new ModelRegistry({ root, onEvent });
    expect(await registry.versions(NAME)).toEqual([]);

    const next = await registry.register(NAME, { ...trained(2), actor: 'second' });
    expect(next.version).toBe('2');
    expect(await registry.versions(NAME)).toEqual(['2']);
    expect(await retiredVersions(registry, NAME)).toEqual(['1']);

    const rows = (await repo.audit.list(tenant, { limit: 100 })).sort((a, b) => a.seq - b.seq);
    const entries = rows.map((r) => ({
      kind: r.kind,
      subject: r.subjectId,
      ...(JSON.parse(r.payload) as { version: string; cardSha256: string; actor: string }),
    }));
    expect(entries.map((e) => [e.kind, e.subject, e.version, e.actor])).toEqual([
      ['model.registered', `${NAME}@1`, '1', 'first'],
      ['model.registration_abandoned', `${NAME}@1`, '1', 'second'],
      ['model.registered', `${NAME}@2`, '2', 'second'],
    ]);
    const [registered1, abandoned, registered2] = entries;
    expect(abandoned!.cardSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(abandoned!.cardSha256).toBe(registered1!.cardSha256);
    expect(registered2!.cardSha256).not.toBe(registered1!.cardSha256);
    // Each number has one registered entry and the served version's matches its card.
    expect(next.card.artefacts.onnxSha256).toBe(
      (JSON.parse(rows[2]!.payload) as { onnxSha256: string }).onnxSha256,
    );
    const verified = await repo.audit.verify(tenant);
    expect(verified).toMatchObject({ ok: true, rowsChecked: 3 });

    // Settled once: a further registration writes no second abandoned entry.
    expect((await registry.register(NAME, trained(3))).version).toBe('3');
    const kinds = (await repo.audit.list(tenant, { limit: 100 })).map((r) => r.kind);
    expect(kinds.filter((k) => k === 'model.registration_abandoned')).toHaveLength(1);
  });
});

describe('registration intents', () => {
  it('an audit hook that fails leaves an intent the next registration abandons, whatever the hook recorded', async () => {
    const events: RegistryEvent[] = [];
    let down = true;
    const registry = new ModelRegistry({
      root,
      onEvent: (e) => {
        events.push(e);
        if (down) throw new Error('audit log unavailable');
      },
    });
    await expect(registry.register(NAME, trained(1))).rejects.toThrow('audit log unavailable');
    // Still down: the abandoned entry cannot be written, so nothing is registered.
    await expect(registry.register(NAME, trained(2))).rejects.toThrow('audit log unavailable');
    expect(await registry.versions(NAME)).toEqual([]);
    down = false;
    expect((await registry.register(NAME, trained(3))).version).toBe('2');
    expect(events.map((e) => [e.type, e.version])).toEqual([
      ['model.registered', '1'],
      ['model.registration_abandoned', '1'],
      ['model.registration_abandoned', '1'],
      ['model.registered', '2'],
    ]);
    expect((await readdir(join(root, NAME))).filter((n) => n.startsWith('.registering-'))).toEqual([]);
  });

  it('retires the number of a registration_failed version without a second closing entry', async () => {
    const events: RegistryEvent[] = [];
    const blocked = new ModelRegistry({
      root,
      onEvent: (e) => void events.push(e),
      // Something occupies the version's directory name, so the rename onto it fails.
      onStage: (s) => (s === 'audited' ? writeFile(join(root, NAME, '1'), 'not a version') : undefined),
    });
    await expect(blocked.register(NAME, trained(1))).rejects.toThrow();
    await rm(join(root, NAME, '1'));
    const registry = new ModelRegistry({ root, onEvent: (e) => void events.push(e) });
    expect((await registry.register(NAME, trained(2))).version).toBe('2');
    expect((await registry.register(NAME, trained(3))).version).toBe('3');
    expect(events.map((e) => [e.type, e.version])).toEqual([
      ['model.registered', '1'],
      ['model.registration_failed', '1'],
      ['model.registered', '2'],
      ['model.registered', '3'],
    ]);
    expect(await retiredVersions(registry, NAME)).toEqual(['1']);
    expect((await readdir(join(root, NAME))).filter((n) => n.startsWith('.registering-'))).toEqual([]);
  });
});

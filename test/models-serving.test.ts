/**
 * Serving the shipped champions: the default wiring scores with the trained ONNX models and
 * routes under the certified whole-decision policy (the served default, bound to the champions
 * it was certified with); a champion whose features differ from the served schema is not
 * served (the task keeps its heuristic, the error is reported); a promotion is picked up by hot
 * reload without a restart and, not being a certified champion, routes by its own card (said in
 * the sources, warned once); a tenant's own policy or a POLICY_FILE routes by its thresholds.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- explanations are read as the JSON the API serves */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { shippedModelsDir, wire, type Wired } from '../bin/bootstrap.js';
import { CERTIFIED_POLICY_FILE, loadCertifiedPolicy } from '../bin/served-policy.js';
import { loadConfig } from '../bin/config.js';
import { seedModelsDir } from '../bin/models-dir.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import type { ModelCardDraft, TrainedModelSpec } from '../models/spec.js';
import { exportOnnx } from '../training/onnx-export.js';
import { makeInvoice } from './fixtures.js';

/** The shipped champion's version of a model (its `aliases.json`). */
const championOf = (name: string): string =>
  (JSON.parse(readFileSync(join(shippedModelsDir(), name, 'aliases.json'), 'utf8')) as { champion: string })
    .champion;
const shippedCard = (name: string) =>
  JSON.parse(readFileSync(join(shippedModelsDir(), name, championOf(name), 'card.json'), 'utf8')) as {
    thresholds: { autoApprove: number; hold: number };
  };

/** The served default: the certified policy, its thresholds and the champions it is certified for. */
const certified = loadCertifiedPolicy();
const certifiedQueues = certified.document.queues;
/** What a source says when a served model is not one the certified default is certified for. */
const notCertified = ` (${certified.label} is certified for ${certified.certifiedFor!.join(', ')})`;

const tmp: string[] = [];
const tempRegistry = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'triage-models-'));
  tmp.push(dir);
  cpSync(shippedModelsDir(), dir, { recursive: true });
  return dir;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

/** The stored explanation of a decision (as GET /v1/decisions/:id serves it). */
async function explanationOf(w: Wired, decisionId: string): Promise<Record<string, any>> {
  const rec = await w.repo.getDecisionRecord('default', decisionId);
  return (rec!.decision as unknown as { explanation: Record<string, any> }).explanation;
}

async function close(w: Wired): Promise<void> {
  await w.repo.close();
  await w.closeModels();
}

describe('shipped champions', () => {
  it('score out of the box with the trained models and route under the certified default policy', async () => {
    const w = await wire({ engine: 'pglite' }, { models: { reloadMs: null } });
    try {
      expect(w.scoring.versions.models).toEqual({
        'coding-mismatch': 'coding-mismatch@4',
        duplicate: 'duplicate@5',
      });
      expect([...w.served.keys()].sort()).toEqual(['coding-mismatch', 'duplicate']);
      const first = await w.scoring.score(makeInvoice({ invoice_id: 'a-1' }));
      const d = first.decision;
      expect(d.versions.models).toEqual({ 'coding-mismatch': 'coding-mismatch@4', duplicate: 'duplicate@5' });
      // The shipped champions are the ones the default policy is certified with.
      expect(certified.certifiedFor).toEqual(['coding-mismatch@4', 'duplicate@5']);
      expect(d.versions.policy).toBe(certified.label);
      expect(d.versions.thresholds).toEqual({
        'coding.review_at': `policy:${certified.label}`,
        'coding.hold_at': `policy:${certified.label}`,
        'ap.review_at': `policy:${certified.label}`,
        'ap.hold_at': `policy:${certified.label}`,
      });
      // Every line carries a calibrated model probability, not the heuristic's rounded risks.
      for (const l of d.lines) expect(l.coding_mismatch).toBeGreaterThan(0);
      const ex = await explanationOf(w, d.decision_id);
      expect(ex.routing.thresholds['coding.review_at']).toBe(certifiedQueues.coding.review_at);
      expect(ex.routing.thresholds['coding.hold_at']).toBe(certifiedQueues.coding.hold_at);
      expect(ex.routing.thresholds['ap.review_at']).toBe(certifiedQueues.ap.review_at);
      expect(ex.routing.thresholds['ap.hold_at']).toBe(certifiedQueues.ap.hold_at);
      // The model's attribution adds up to its logit (integrated gradients, exact for the MLP).
      for (const line of ex.coding_mismatch.lines) {
        const m = line.model;
        expect(m.model).toBe('coding-mismatch@4');
        const sum = m.contributions.reduce((a: number, c: { value: number }) => a + c.value, 0);
        expect(Math.abs(m.base_value + sum + m.completeness_gap - m.logit)).toBeLessThan(1e-9);
        expect(Math.abs(m.completeness_gap)).toBeLessThan(1e-6);
        expect(1 / (1 + Math.exp(-m.logit))).toBeGreaterThan(0); // a logit, not a probability
      }

      // The same invoice resent under a new id is a duplicate the pair model scores above the
      // duplicate card's hold: held where the certified ap.hold_at is reached, else AP review
      // (a policy certified with ap.hold_at 1 holds none on the duplicate score alone).
      const again = await w.scoring.score(makeInvoice({ invoice_id: 'a-2' }));
      expect(again.decision.duplicates[0]).toMatchObject({ invoice_id: 'a-1' });
      expect(again.decision.scores.duplicate).toBeGreaterThanOrEqual(
        shippedCard('duplicate').thresholds.hold,
      );
      const held = again.decision.scores.duplicate >= certifiedQueues.ap.hold_at;
      expect(again.decision.decision).toBe(held ? 'HOLD' : 'REVIEW');
      if (!held) expect(again.decision.queue).toBe('ap');
      const ex2 = await explanationOf(w, again.decision.decision_id);
      expect(ex2.duplicate.method).toMatch(/duplicate@5/);
      expect(
        Math.abs(ex2.duplicate.intercept + ex2.duplicate.sum_of_contributions - ex2.duplicate.logit_score),
      ).toBeLessThan(0.01); // contributions are rounded to 3 decimals per group
    } finally {
      await close(w);
    }
  }, 120_000); // cold start: PGlite, both ONNX models, explanations (64 s at load 23)

  it('serves the heuristics when models are off, with the default policy thresholds', async () => {
    const w = await wire({ engine: 'pglite' }, { models: null });
    try {
      expect(w.scoring.versions.models).toEqual({
        'coding-mismatch': 'heuristic-coding@1',
        duplicate: 'heuristic-duplicate@1',
      });
      const d = (await w.scoring.score(makeInvoice())).decision;
      expect(d.versions.thresholds!['ap.review_at']).toBe('policy:policy-default@1');
    } finally {
      await close(w);
    }
  });

  it('a tenant policy overrides the card thresholds', async () => {
    const w = await wire({ engine: 'pglite' }, { models: { reloadMs: null } });
    try {
      const doc = JSON.parse(
        readFileSync(new URL('../inference/policies/default.json', import.meta.url), 'utf8'),
      );
      await w.repo.policies.put(
        'default',
        { name: 'strict', document: { ...doc, name: 'strict' }, sha256: 'test' },
        null,
      );
      const d = (await w.scoring.score(makeInvoice())).decision;
      expect(d.versions.policy).toBe('strict@2');
      expect(d.versions.thresholds!['coding.review_at']).toBe('policy:strict@2');
    } finally {
      await close(w);
    }
  });

  it('a POLICY_FILE routes by its own thresholds, not the certified default nor the cards', async () => {
    const handSet = fileURLToPath(new URL('../inference/policies/default.json', import.meta.url));
    expect(handSet).not.toBe(CERTIFIED_POLICY_FILE);
    const w = await wire({ engine: 'pglite' }, { models: { reloadMs: null }, policyFile: handSet });
    try {
      const d = (await w.scoring.score(makeInvoice())).decision;
      expect(d.versions.policy).toBe('policy-default@1');
      expect(new Set(Object.values(d.versions.thresholds!))).toEqual(new Set(['policy:policy-default@1']));
      const ex = await explanationOf(w, d.decision_id);
      expect(ex.routing.thresholds['coding.review_at']).toBe(0.5);
      expect(ex.routing.thresholds['ap.hold_at']).toBe(0.9);
    } finally {
      await close(w);
    }
  });
});

describe('the service registry', () => {
  it('is a copy of the shipped champions in the data directory, seeded once, never the shipped one', () => {
    const root = mkdtempSync(join(tmpdir(), 'triage-seed-'));
    tmp.push(root);
    const dir = join(root, 'data', 'models');
    expect(seedModelsDir(dir)).toBe(true);
    expect(readFileSync(join(dir, 'duplicate', '1', 'spec.json'))).toEqual(
      readFileSync(join(shippedModelsDir(), 'duplicate', '1', 'spec.json')),
    );
    // A later start keeps what the service changed there.
    writeFileSync(join(dir, 'marker'), 'kept');
    expect(seedModelsDir(dir)).toBe(false);
    expect(readFileSync(join(dir, 'marker'), 'utf8')).toBe('kept');
    expect(seedModelsDir(shippedModelsDir())).toBe(false);
    const config = loadConfig({ DATA_DIR: join(root, 'data', 'pglite') });
    expect(config.models.dir).toBe(dir);
    expect(loadConfig({ MODELS_DIR: 'none' }).models.dir).toBeNull();
  });
});

describe('champion loading', () => {
  it('refuses a champion whose features differ from the served schema and keeps the heuristic', async () => {
    const dir = tempRegistry();
    // A new version of the pair model (after the shipped ones), trained on renamed features, made champion by a
    // registry that does not know the served schema (e.g. another deployment's).
    const v1 = join(dir, 'duplicate', '1');
    const spec = JSON.parse(readFileSync(join(v1, 'spec.json'), 'utf8')) as TrainedModelSpec;
    const card = JSON.parse(readFileSync(join(v1, 'card.json'), 'utf8')) as { training: ModelCardDraft };
    const renamed = { ...spec, featureNames: [...spec.featureNames.slice(0, -1), 'renamed_feature'] };
    const draft = { ...structuredClone(card.training), featureNames: renamed.featureNames };
    const foreign = new ModelRegistry({ root: dir });
    const added = await foreign.register('duplicate', {
      onnx: exportOnnx(renamed),
      spec: renamed,
      card: draft,
    });
    await foreign.promote('duplicate', added.version, {
      actor: 'test',
      reason: 'foreign schema',
      force: true,
    });
    const errors: { model: string; code: unknown }[] = [];
    const w = await wire(
      { engine: 'pglite' },
      {
        models: {
          dir,
          reloadMs: null,
          onError: (e, model) => errors.push({ model, code: (e as { code?: unknown }).code }),
        },
      },
    );
    try {
      expect(w.scoring.versions.models).toEqual({
        'coding-mismatch': 'coding-mismatch@4',
        duplicate: 'heuristic-duplicate@1',
      });
      expect(errors).toEqual([{ model: 'duplicate', code: 'TRIAGE_MODEL_SIGNATURE_MISMATCH' }]);
      // ...and the service still scores.
      expect((await w.scoring.score(makeInvoice())).created).toBe(true);
    } finally {
      await close(w);
    }
  });

  it('hot-reloads a promoted champion: new decisions use the new version and its thresholds', async () => {
    const dir = tempRegistry();
    const warnings: { fields: Record<string, unknown>; message: string }[] = [];
    const w = await wire(
      { engine: 'pglite' },
      { models: { dir, reloadMs: 50 }, warn: (fields, message) => warnings.push({ fields, message }) },
    );
    try {
      expect(w.scoring.versions.models['coding-mismatch']).toBe('coding-mismatch@4');
      // A new version: the champion's network, with a stricter auto-approve threshold on its card.
      const v1 = join(dir, 'coding-mismatch', '4');
      const spec = JSON.parse(readFileSync(join(v1, 'spec.json'), 'utf8')) as TrainedModelSpec;
      const card = JSON.parse(readFileSync(join(v1, 'card.json'), 'utf8')) as { training: ModelCardDraft };
      const draft = structuredClone(card.training);
      draft.thresholds.autoApprove.threshold = 0.01;
      const registry = new ModelRegistry({ root: dir, featureSchemas: servedFeatureSchemas() });
      const added = await registry.register('coding-mismatch', {
        onnx: exportOnnx(spec),
        spec,
        card: draft,
        files: { 'line-context.json': readFileSync(join(v1, 'line-context.json')) },
      });
      await registry.promote('coding-mismatch', added.version, {
        actor: 'test',
        reason: 'stricter threshold',
      });
      const deadline = Date.now() + 10_000;
      while (w.scoring.versions.models['coding-mismatch'] !== added.label && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(w.scoring.versions.models['coding-mismatch']).toBe(added.label);
      const d = (await w.scoring.score(makeInvoice({ invoice_id: 'after-reload' }))).decision;
      expect(d.versions.models['coding-mismatch']).toBe(added.label);
      // Not the champion the default policy is certified with: its card routes it, and the
      // sources say so; the duplicate task keeps the certified thresholds.
      expect(d.versions.thresholds).toEqual({
        'coding.review_at': `model-card:${added.label}${notCertified}`,
        'coding.hold_at': `model-card:${added.label}${notCertified}`,
        'ap.review_at': `policy:${certified.label}`,
        'ap.hold_at': `policy:${certified.label}`,
      });
      const ex = await explanationOf(w, d.decision_id);
      expect(ex.routing.thresholds['coding.review_at']).toBeCloseTo(0.01, 6);
      expect(ex.routing.thresholds['coding.hold_at']).toBe(shippedCard('coding-mismatch').thresholds.hold);
      expect(ex.routing.thresholds['ap.review_at']).toBe(certifiedQueues.ap.review_at);
      // Warned once (no invoice contents), however many invoices it routes.
      await w.scoring.score(makeInvoice({ invoice_id: 'after-reload-2' }));
      expect(warnings).toEqual([
        {
          fields: {
            policy: certified.label,
            model: added.label,
            certified_for: certified.certifiedFor,
          },
          message: expect.stringContaining(
            'not the one the default policy is certified for',
          ) as unknown as string,
        },
      ]);
      // GET /v1/policy's view of the effective thresholds says the same.
      const shown = w.scoring.effectiveThresholds(await w.scoring.policyFor('default'));
      expect(shown.sources['coding.review_at']).toBe(`model-card:${added.label}${notCertified}`);
    } finally {
      await close(w);
    }
  });
});

#!/usr/bin/env node
/**
 * `npm run models -- <command>`: the model registry from the command line.
 *
 * ```
 * list                                   versions and aliases of every model
 * show <name> [alias|version]            a version's card (default: champion)
 * register <name> --from <dir>           export a training run (spec.json + card.json from
 *                                        `npm run train`, and its line-context.json if any) to
 *                                        ONNX, check it against the float64 reference, register
 *                                        it as challenger
 * register-external <name> <file.onnx> --card <draft.json>
 *                                        register a model trained elsewhere (e.g. skl2onnx)
 * promote <name> <version> --actor <who> --reason <why> [--force] [--data <dir>]
 *                                        with --data: the rule compares both models re-measured
 *                                        on that benchmark's test split (as `gate`)
 * gate <name> <version> --data <dir>     re-measure the version and the champion on the test split
 *                                        of the benchmark at <dir>, each at its own card's
 *                                        thresholds, print each kind side by side and the
 *                                        promotion rule's verdict; exit code 1 when it refuses
 * ```
 * Options: `--root <dir>`, `--json`. Without `--root` the commands work on the registry the
 * service serves (`MODELS_DIR`, default `./data/models` beside `DATA_DIR`, bin/models-dir.ts
 * `servedModelsDir`): a command that changes it first seeds it from the shipped
 * `models/artifacts` as the server does on its first start; `list`, `show` and `gate` read the
 * shipped registry while it is not seeded yet (what the service will serve). The shipped
 * `models/artifacts` changes only when `--root` names it: with `MODELS_DIR=none` (the service
 * reads the shipped registry) `register`, `register-external` and `promote` are refused before
 * they read anything (`TRIAGE_MODEL_REGISTRY_READ_ONLY` naming the setting, exit code 2).
 *
 * `register`, `register-external` and `promote` change what the service serves (the challenger
 * it shadows, the champion), so they are audited as the API's changes are: they open the
 * service's store (`--database-url` / `--data-dir` / `--schema`, else `DATABASE_URL` / `DATA_DIR`
 * as the server reads them, bin/cli-store.ts) and write `model.registered` / `model.promoted`
 * (`model.promotion_refused`, `model.promotion_failed`) into the chain of the operator tenant
 * (`MODEL_OPERATOR_TENANT`), actor key null and `--actor` in the payload; a promotion also emits
 * `model.promoted` to every tenant (models/governed-promotion.ts, the API's path). A rollback is
 * `promote` of the previous champion with a `--reason`. A store that cannot be opened or written
 * refuses the change.
 * The `list` table is coloured only on a terminal that takes colours (node's
 * `WriteStream.hasColors()`, which honours `NO_COLOR`, `NODE_DISABLE_COLORS` and `TERM=dumb`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import Table from 'cli-table3';
import { isTriageError } from '../core/errors.js';
import { validateEvaluation, type ExternalCardDraft, type ModelCard } from '../models/card.js';
import type { ModelRegistry } from '../models/registry.js';
import { assertModelSpec, type ModelCardDraft } from '../models/spec.js';
import { exportOnnx } from '../training/onnx-export.js';
import { renderGate } from '../training/same-split-gate.js';
import { governedPromotion } from '../models/governed-promotion.js';
import { serviceStore, withStoreFlags, type StoreFlags } from './cli-store.js';
import { loadConfig } from './config.js';
import { onnxReferenceGap, servedRegistry, serviceRegistry } from './models-api.js';
import { registryGate } from './models-gate.js';
import { seedModelsDir, shippedModelsDir } from './models-dir.js';
import { openModelGovernance, type OpenedModelGovernance } from './models-governance.js';

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** Whether standard output is a terminal that takes ANSI colours (see the module doc). */
export const stdoutHasColours = (): boolean => process.stdout.isTTY === true && process.stdout.hasColors();

/**
 * The `models` command.
 * @param print receives every line of output.
 * @param colours whether tables may carry ANSI colours (default: {@link stdoutHasColours}).
 * @param env the service's configuration (registry, operator tenant, shadow rule, default store).
 */
export function modelsCommand(
  print: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  colours: boolean = stdoutHasColours(),
  env: NodeJS.ProcessEnv = process.env,
): Command {
  const program = new Command('models')
    .description('Model registry: list, show, register, promote')
    .option('--root <dir>', 'registry directory (default: the one the service serves, MODELS_DIR)')
    .option('--json', 'print JSON');
  /**
   * The registry (see the module doc); `change`: for a command that writes it, seeded first
   * when it is the served one, refused (`TRIAGE_MODEL_REGISTRY_READ_ONLY`) before anything runs
   * when that is the shipped one (`MODELS_DIR=none`).
   */
  const registry = (change = false): ModelRegistry => {
    const given = program.opts<{ root?: string }>().root;
    if (given !== undefined) return serviceRegistry(given);
    const models = loadConfig(env).models;
    const reg = servedRegistry(models);
    if (change) {
      reg.assertWritable();
      seedModelsDir(reg.root);
    } else if (!existsSync(reg.root)) return serviceRegistry(shippedModelsDir());
    return reg;
  };
  const json = (): boolean => program.opts<{ json?: boolean }>().json === true;
  /** Runs `use` with the audit of the service's store (see the module doc), then closes it. */
  const governed = async <T>(
    reg: ModelRegistry,
    flags: StoreFlags,
    use: (g: OpenedModelGovernance) => Promise<T>,
  ): Promise<T> => {
    const config = loadConfig(env);
    const g = await openModelGovernance({
      store: serviceStore(flags, env),
      registry: reg,
      modelsDir: reg.root,
      operatorTenant: config.models.operatorTenant,
      minShadowLabelled: config.monitoring.minShadowLabelled,
    });
    try {
      return await use(g);
    } finally {
      await g.close();
    }
  };

  program.command('list').action(async () => {
    const listing = await registry().list();
    if (json()) return print(JSON.stringify(listing, null, 2));
    const t = new Table({
      head: ['model', 'version', 'aliases', 'architecture', 'source', 'evaluation', 'created'],
      ...(colours ? {} : { style: { head: [], border: [] } }),
    });
    for (const m of listing)
      for (const v of m.versions)
        t.push([
          m.name,
          v.version,
          v.aliases.join(', '),
          v.architecture,
          v.source,
          `${v.evaluation.metric} ${v.evaluation.value.toFixed(4)} (${v.evaluation.split}/${v.evaluation.unit}, n=${v.evaluation.size})`,
          v.createdAt,
        ]);
    print(listing.length === 0 ? 'no models registered' : t.toString());
  });

  program.command('show <name> [aliasOrVersion]').action(async (name: string, which: string | undefined) => {
    const r = await registry().resolve(name, which ?? 'champion');
    print(json() ? JSON.stringify(r.card, null, 2) : cardSummary(r.card));
  });

  withStoreFlags(
    program
      .command('register <name>')
      .requiredOption('--from <dir>', 'training run output (spec.json, card.json)')
      .option('--evaluation <file>', 'headline evaluation JSON (metric, value, datasetHash, ..., baselines)')
      .option('--actor <who>', 'who registers', 'cli'),
  ).action(async (name: string, o: StoreFlags & { from: string; evaluation?: string; actor: string }) => {
    const reg = registry(true);
    const spec = assertModelSpec(readJson(join(o.from, 'spec.json')));
    const onnx = exportOnnx(spec);
    const gap = await onnxReferenceGap(spec, onnx);
    if (!(gap <= 1e-5)) throw new Error(`ONNX graph differs from the spec: max |probability diff| ${gap}`);
    const r = await governed(reg, o, (g) =>
      reg.register(
        name,
        {
          onnx,
          spec,
          card: readJson(join(o.from, 'card.json')) as ModelCardDraft, // validated by register
          ...(o.evaluation ? { evaluation: validateEvaluation(readJson(o.evaluation)) } : {}),
          // The line context the run computed its features with, needed to serve it the same way.
          ...(existsSync(join(o.from, 'line-context.json'))
            ? { files: { 'line-context.json': readFileSync(join(o.from, 'line-context.json'), 'utf8') } }
            : {}),
          actor: o.actor,
        },
        { onEvent: (e) => g.audit(e, null, g.tenantId) },
      ),
    );
    print(
      json()
        ? JSON.stringify({ label: r.label, onnxReferenceGap: gap }, null, 2)
        : `registered ${r.label} as challenger (ONNX vs float64 reference: max |probability diff| ${gap.toExponential(2)})`,
    );
  });

  withStoreFlags(
    program
      .command('register-external <name> <file>')
      .requiredOption('--card <file>', 'card draft JSON (ExternalCardDraft)')
      .option('--actor <who>', 'who registers', 'cli'),
  ).action(async (name: string, file: string, o: StoreFlags & { card: string; actor: string }) => {
    const reg = registry(true);
    const r = await governed(reg, o, (g) =>
      reg.registerExternalOnnx(
        name,
        new Uint8Array(readFileSync(file)),
        readJson(o.card) as ExternalCardDraft, // validated by the registry
        { actor: o.actor, onEvent: (e) => g.audit(e, null, g.tenantId) },
      ),
    );
    print(
      json()
        ? JSON.stringify({ label: r.label, adaptation: r.adaptation }, null, 2)
        : `registered ${r.label} as challenger`,
    );
  });

  withStoreFlags(
    program
      .command('promote <name> <version>')
      .description(
        'make a version champion (or put back the previous one: a rollback), audited in the operator ' +
          "tenant's chain and announced to every tenant as the API's promotions are; refused when worse " +
          'than the champion on the headline metric or on any exception kind, hard-negative kind or clean ' +
          'invoices (models/promotion-gate.ts)',
      )
      .requiredOption('--actor <who>', 'who promotes (recorded)')
      .requiredOption('--reason <why>', 'why the champion changes (recorded; it serves every tenant)')
      .option('--force', 'promote even when the challenger is worse or not comparable (recorded)')
      .option('--data <dir>', "compare both models re-measured on this benchmark's test split (see gate)"),
  ).action(
    async (
      name: string,
      version: string,
      o: StoreFlags & { actor: string; reason: string; force?: boolean; data?: string },
    ) => {
      const reg = registry(true);
      const gate = o.data ? await registryGate(reg, name, version, { data: o.data }) : null;
      if (gate && !json()) for (const l of renderGate(gate)) print(l);
      const r = await governed(reg, o, (g) =>
        governedPromotion(g, {
          tenantId: g.tenantId,
          actorKeyId: null,
          actor: o.actor,
          name,
          version,
          reason: o.reason,
          force: o.force,
          ...(gate ? { sameSplit: { candidate: gate.challenger, champion: gate.champion } } : {}),
          fields: { reason: '--reason', version: '<version>' },
        }),
      );
      print(
        json()
          ? JSON.stringify(r, null, 2)
          : r.changed
            ? `${name}@${r.version} is champion (was ${r.previousChampion ?? 'none'})${r.forced ? ' - FORCED' : ''}`
            : `${name}@${r.version} already is champion`,
      );
    },
  );

  program
    .command('gate <name> <version>')
    .description(
      "re-measure a version and the champion on one benchmark's test split (each at its own card's " +
        'thresholds) and apply the promotion rule to the two; exit code 1 when it refuses',
    )
    .requiredOption('--data <dir>', "the benchmark (the challenger's, as npm run gen:benchmark wrote it)")
    .option('--seed <n>', "feature provider seed (default the challenger card's)")
    .option('--k <n>', 'kNN candidates per invoice (duplicate blocking)', '10')
    .action(async (name: string, version: string, o: { data: string; seed?: string; k: string }) => {
      const g = await registryGate(registry(), name, version, {
        data: o.data,
        k: Number(o.k),
        ...(o.seed !== undefined ? { seed: Number(o.seed) } : {}),
      });
      if (json())
        print(
          JSON.stringify(
            {
              refusal: g.refusal,
              perKind: g.perKind,
              headline: g.headline,
              rows: g.rows,
              challengerReproduced: g.challengerReproduced,
            },
            null,
            2,
          ),
        );
      else for (const l of renderGate(g)) print(l);
      if (g.refusal !== null) process.exitCode = 1;
    });
  return program;
}

function cardSummary(c: ModelCard): string {
  const e = c.evaluation;
  const lines = [
    `${c.name}@${c.version} (${c.source}, ${c.architecture}, task ${c.task})`,
    `created ${c.createdAt}, parent ${c.parentVersion ?? 'none'}, seed ${c.seed ?? 'n/a'}`,
    `features ${c.featureSchemaVersion}: ${c.featureNames.join(', ')}`,
    `evaluation ${e.metric} ${e.value.toFixed(4)} on ${e.split}/${e.unit} n=${e.size} (${e.datasetHash.slice(0, 12)})`,
    `thresholds auto-approve <= ${c.thresholds.autoApprove}, hold >= ${c.thresholds.hold}`,
  ];
  if (c.training) {
    const cal = c.training.calibration;
    lines.push(
      `calibration ${cal.chosen}: ECE ${cal.eceBeforeTest ?? 'n/a'} -> ${cal.eceAfterTest ?? 'n/a'} (test)`,
    );
    lines.push(
      `training data ${c.training.data.hash.slice(0, 12)}, labels ${c.training.labels.hash.slice(0, 12)}`,
    );
  }
  lines.push('history:');
  for (const h of c.history)
    lines.push(
      `  ${h.at} ${h.action} by ${h.actor}${h.forced ? ' (FORCED)' : ''}${h.reason ? `: ${h.reason}` : ''}` +
        (h.otherVersion ? ` [other: ${h.otherVersion}]` : ''),
    );
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  modelsCommand()
    .parseAsync()
    .catch((e: unknown) => {
      process.stderr.write(
        isTriageError(e)
          ? `${e.code}: ${e.message}\n${e.errors.map((f) => `  ${f.path}: ${f.message}\n`).join('')}`
          : `${e instanceof Error ? e.message : String(e)}\n`,
      );
      process.exitCode = isTriageError(e, 'TRIAGE_MODEL_PROMOTION_REFUSED') ? 3 : 2;
    });
}

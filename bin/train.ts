#!/usr/bin/env node
/**
 * `npm run train -- --model coding-mismatch|duplicate --data <dir> --seed 42 [--out <dir>]`
 * (see `training/cli.ts`). Reads no environment variables: everything comes from the flags.
 * The harness report compares the trained model with the heuristic scoring path (over an
 * in-memory PGlite store) and the SAP- and Oracle-style rules.
 */
import { isTriageError } from '../core/errors.js';
import { trainCommand } from '../training/cli.js';
import { createOracleDetector, createSapDetector } from '../training/eval/baselines.js';
import { createFeatureProvider } from '../training/provider.js';
import { shippedModelsDir } from './models-dir.js';
import { serviceDetector } from './service-detector.js';

trainCommand({
  provider: createFeatureProvider,
  // The shipped champions (this command reads no environment, so not MODELS_DIR).
  registryRoot: shippedModelsDir(),
  // The heuristic service (the same vendor master registered) and the ERP rules.
  baselines: async (dataDir: string) => {
    const heuristic = await serviceDetector({
      store: { engine: 'pglite' },
      models: null,
      dataDir,
      name: 'heuristic',
    });
    return [heuristic, createSapDetector(), createOracleDetector()];
  },
})
  .parseAsync()
  .catch((e: unknown) => {
    process.stderr.write(
      isTriageError(e)
        ? `${e.code}: ${e.message}\n${e.errors.map((x) => `  ${x.path}: ${x.message}`).join('\n')}\n`
        : `${e instanceof Error ? e.message : String(e)}\n`,
    );
    process.exitCode = 2;
  });

#!/usr/bin/env node
/**
 * `npm run train -- --model coding-mismatch|duplicate --data <dir> --seed 42 [--out <dir>]`
 * (see `training/cli.ts`). Reads no environment variables: everything comes from the flags.
 */
import { isTriageError } from '../core/errors.js';
import { trainCommand } from '../training/cli.js';
import { createFeatureProvider } from '../training/provider.js';

trainCommand({ provider: createFeatureProvider })
  .parseAsync()
  .catch((e: unknown) => {
    process.stderr.write(
      isTriageError(e)
        ? `${e.code}: ${e.message}\n${e.errors.map((x) => `  ${x.path}: ${x.message}`).join('\n')}\n`
        : `${e instanceof Error ? e.message : String(e)}\n`,
    );
    process.exitCode = 2;
  });

/**
 * Crash drill for the model registry (run by models/registry.test.ts): registers one version
 * and SIGKILLs itself at the given stage, like a power cut in the middle of a registration.
 * Usage: node --import tsx test/registry-crash-child.ts <root> <staged|committed|aliased> <seed>
 */
import { ModelRegistry } from '../models/registry.js';
import { exportOnnx } from '../training/onnx-export.js';
import { makeCardDraft, makeSpec } from './model-fixtures.js';

const [root, stage, seed] = process.argv.slice(2);
const spec = makeSpec({ seed: Number(seed) });
const registry = new ModelRegistry({
  root: root!,
  // The lock this process dies holding goes stale soon, as the next drill's registry expects.
  lock: { staleMs: 2000 },
  onStage: (s) => {
    if (s === stage) process.kill(process.pid, 'SIGKILL');
  },
});
await registry.register('coding-mismatch', { onnx: exportOnnx(spec), spec, card: makeCardDraft(spec) });

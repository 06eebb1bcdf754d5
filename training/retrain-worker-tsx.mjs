// Worker entry of a retrain run when running from TypeScript sources (tsx, vitest): registers
// tsx in the worker thread, then loads training/retrain-worker.ts. A build starts the compiled
// retrain-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./retrain-worker.ts');

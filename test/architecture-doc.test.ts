/**
 * docs/ARCHITECTURE.md stays true to the tree: every repository path it names in backticks
 * (a top-level folder or root file, optionally followed by a path) exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../core/paths.js';

const root = packageRoot();
const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');

/** Top-level entries of the repository a path in the doc may start with. */
const topLevel = new Set(readdirSync(root).filter((n) => !n.startsWith('.') && n !== 'node_modules'));

/**
 * Repository paths named in `text`: backticked tokens, and words of the fenced block, whose
 * first segment is a top-level entry (`store/audit.ts`, `models/artifacts/`, `README.md`).
 * Tokens with placeholders (`NNN_name.sql`, `<name>`) or globs are left out.
 */
function namedPaths(text: string): string[] {
  const fenced = [...text.matchAll(/```\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split(/[\s(),:;]+/));
  const ticked = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1] ?? '');
  const paths = [...fenced, ...ticked].filter((t) => {
    if (/[<>*]|NNN/.test(t)) return false;
    const first = t.split('/')[0] ?? '';
    return topLevel.has(first) && (t.includes('/') || /\.(md|json|ts|js)$/.test(t));
  });
  return [...new Set(paths)].sort();
}

describe('docs/ARCHITECTURE.md', () => {
  const paths = namedPaths(doc);

  it('names the files of the scoring path and of every layer', () => {
    for (const p of [
      'api/routes/invoices.ts',
      'inference/pipeline.ts',
      'store/repository.ts',
      'jobs/processors.ts',
      'models/registry.ts',
      'training/pipeline.ts',
    ])
      expect(paths).toContain(p);
    expect(paths.length).toBeGreaterThan(60);
  });

  it('names only paths that exist', () => {
    const missing = paths.filter((p) => !existsSync(join(root, p)));
    expect(missing).toEqual([]);
  });

  it('would report a path that does not exist', () => {
    expect(namedPaths('see `store/no-such-file.ts` and `inference/`')).toEqual([
      'inference/',
      'store/no-such-file.ts',
    ]);
    expect(existsSync(join(root, 'store/no-such-file.ts'))).toBe(false);
  });
});

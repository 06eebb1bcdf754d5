import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../core/paths.js';

describe('scripts/certify-policy.sh arguments', () => {
  const script = join(packageRoot(), 'scripts', 'certify-policy.sh');
  const run = (args: string[], cwd: string) =>
    spawnSync('bash', [script, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });

  it('prints its usage for -h and --help and generates nothing', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'triage-certify-help-'));
    for (const flag of ['-h', '--help']) {
      const r = run([flag], cwd);
      expect(r.status, flag).toBe(0);
      expect(r.stdout).toMatch(/^usage: npm run certify:policy \[-- WORKDIR/);
      expect(existsSync(join(packageRoot(), flag))).toBe(false);
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses an unknown option in the WORKDIR place with exit 2 naming it', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'triage-certify-bad-'));
    const r = run(['--workdir', 'x'], cwd);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --workdir');
    expect(r.stdout).toBe('');
    expect(existsSync(join(packageRoot(), '--workdir'))).toBe(false);
  });
});

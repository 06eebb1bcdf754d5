import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

describe('scripts/certify-policy.sh scoring jobs', () => {
  const script = join(packageRoot(), 'scripts', 'certify-policy.sh');
  // A stand-in for `npm run certify --`: logs its arguments, writes one row to --rows-out, fails
  // when its arguments contain $FAIL_ON, and records how many stand-ins run at once.
  const stub = (dir: string): string => {
    const file = join(dir, 'certify-stub.sh');
    writeFileSync(
      file,
      [
        '#!/usr/bin/env bash',
        'set -eu',
        'echo "$*" >> "$STUB_DIR/calls.log"',
        'mkdir "$STUB_DIR/running/$$"',
        'ls "$STUB_DIR/running" | wc -l >> "$STUB_DIR/concurrency.log"',
        'sleep 1',
        'rmdir "$STUB_DIR/running/$$"',
        'if [[ -n ${FAIL_ON:-} && "$*" == *"$FAIL_ON"* ]]; then echo "boom: $FAIL_ON" >&2; exit 3; fi',
        'prev=; for a in "$@"; do [[ $prev == --rows-out ]] && echo "{}" > "$a"; prev=$a; done',
        'exit 0',
      ].join('\n'),
    );
    chmodSync(file, 0o755);
    return file;
  };
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-certify-jobs-'));
    mkdirSync(join(dir, 'running'));
    for (const b of ['calib-303', 'bench-101', 'bench-202']) {
      mkdirSync(join(dir, 'work', b), { recursive: true });
      writeFileSync(join(dir, 'work', b, 'card.json'), '{}');
    }
    return dir;
  };
  const run = (dir: string, env: Record<string, string> = {}) =>
    spawnSync('bash', [script, join(dir, 'work'), '--alpha', '0.01'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        CERTIFY_CMD: stub(dir),
        STUB_DIR: dir,
        CERTIFY_PARTS: '2',
        CERTIFY_CALIB_SEED: '303',
        CERTIFY_PROCUREMENT_SEED: '303',
        CERTIFY_PROCUREMENT_PER_KIND: '5',
        CERTIFY_PROCUREMENT_VENDORS: '7',
        ...env,
      },
    });
  const calls = (dir: string): string[] =>
    existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : [];

  it('scores the parts, the procurement cases and each unseen split once, at most CERTIFY_PARTS at a time, then certifies on their rows', () => {
    const dir = setup();
    const w = join(dir, 'work');
    const r = run(dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const c = calls(dir);
    expect(c).toHaveLength(6);
    const scoring = c.slice(0, 5).sort();
    const tail = (name: string, pk: number) =>
      `--procurement-per-kind ${pk} --procurement-vendors 7 --rows-out ${w}/rows/${name}.jsonl --out ${w}/rows/${name}.policy.json`;
    expect(scoring).toEqual(
      [
        `--data ${w}/bench-101 --split test ${tail('bench-101-test', 0)}`,
        `--data ${w}/bench-202 --split test ${tail('bench-202-test', 0)}`,
        `--data ${w}/calib-303 --split valid --shard 0/2 ${tail('calib-303-valid-0-of-2', 0)}`,
        `--data ${w}/calib-303 --split valid --shard 1/2 ${tail('calib-303-valid-1-of-2', 0)}`,
        `--data ${w}/calib-303 --split valid --limit 0 --procurement-seed 303 ${tail('procurement-303-5x7', 5)}`,
      ].sort(),
    );
    expect(c[5]).toBe(
      `--data ${w}/calib-303 --split valid --procurement-seed 303 --procurement-per-kind 5 --procurement-vendors 7 ` +
        `--rows ${w}/rows/calib-303-valid-0-of-2.jsonl ${w}/rows/calib-303-valid-1-of-2.jsonl ${w}/rows/procurement-303-5x7.jsonl ` +
        `--out certified-policy.json --verify-rows ${w}/rows/bench-101-test.jsonl ${w}/rows/bench-202-test.jsonl --alpha 0.01`,
    );
    const running = readFileSync(join(dir, 'concurrency.log'), 'utf8').trim().split('\n').map(Number);
    expect(Math.max(...running.slice(0, 5))).toBe(2);

    // A second run scores nothing again: every job's rows are complete.
    rmSync(join(dir, 'calls.log'));
    expect(run(dir).status).toBe(0);
    expect(calls(dir)).toHaveLength(1);
    expect(calls(dir)[0]).toMatch(/^--data \S+ --split valid --procurement-seed 303 /);
  });

  it('exits 1 naming a failed job, keeps the others rows and does not certify', () => {
    const dir = setup();
    const w = join(dir, 'work');
    const r = run(dir, { FAIL_ON: '--shard 1/2' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('scoring calib-303-valid-1-of-2 failed');
    expect(r.stderr).toContain('boom: --shard 1/2');
    expect(calls(dir)).toHaveLength(5);
    expect(existsSync(join(w, 'rows', 'calib-303-valid-1-of-2.jsonl.done'))).toBe(false);
    for (const name of ['calib-303-valid-0-of-2', 'procurement-303-5x7', 'bench-101-test', 'bench-202-test'])
      expect(existsSync(join(w, 'rows', `${name}.jsonl.done`)), name).toBe(true);
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs a script in a child Node.js process (TypeScript through tsx) and returns its stdout lines. */
function run(script: string): string[] {
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: process.cwd(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(out.status).toBe(0);
  return out.stdout.split('\n').filter((l) => l !== '');
}

describe('processLogger', () => {
  it('loses no buffered line at process.exit', () => {
    const lines = run(`
      import { processLogger } from './bin/logger.ts';
      const { logger } = processLogger('info');
      for (let i = 0; i < 3000; i++) logger.info({ i }, 'line');
      process.exit(0);
    `);
    expect(lines).toHaveLength(3000);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
      Array.from({ length: 3000 }, (_, i) => i),
    );
  }, 60_000);

  it('writes buffered lines on flush(), before the process ends', () => {
    const lines = run(`
      import { processLogger } from './bin/logger.ts';
      const { logger, flush } = processLogger('info');
      logger.info('first');
      flush();
      process.stdout.write('{"marker":true}\\n');
    `);
    expect(lines.map((l) => (JSON.parse(l) as { msg?: string; marker?: boolean }).msg ?? 'marker')).toEqual([
      'first',
      'marker',
    ]);
  }, 60_000);

  it('writes a line at once while the process keeps running (no buffer waiting to fill)', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { processLogger } from './bin/logger.ts';
         const { logger } = processLogger('info');
         logger.info('ready');
         setTimeout(() => undefined, 20_000);`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const seen = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no line within 15 s: ${out}`)), 15_000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(out);
          }
        });
      });
      expect((JSON.parse(seen.split('\n')[0]!) as { msg: string }).msg).toBe('ready');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

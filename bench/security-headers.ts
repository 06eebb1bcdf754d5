/**
 * CPU per request of the security headers: `npx tsx bench/security-headers.ts [requests] [rounds]`.
 * Three bare fastify apps answer `GET /ok` through `inject` (no socket): without security
 * headers, with @fastify/helmet (helmet's middleware built on every request) and with
 * api/security.ts (built once), alternated within each round; prints the median µs per request
 * of each and the headers' cost over the bare app.
 */
import fastifyHelmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { HELMET_OPTIONS, registerSecurityHeaders } from '../api/security.js';
import { parseBenchArgs } from './args.js';

const {
  args: [requests, rounds],
} = parseBenchArgs<[string, string]>('bench/security-headers.ts', (c) =>
  c
    .argument('[requests]', 'requests per app and round', '5000')
    .argument('[rounds]', 'alternated rounds', '7'),
);

/** A bare app answering `GET /ok`, with `install`'s headers. */
async function appWith(install: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await install(app);
  app.get('/ok', async () => ({ ok: true }));
  await app.ready();
  return app;
}

const apps: [string, FastifyInstance][] = [
  ['no security headers', await appWith(async () => undefined)],
  [
    '@fastify/helmet',
    await appWith(async (app) => {
      await app.register(fastifyHelmet, { global: true, ...HELMET_OPTIONS });
    }),
  ],
  ['api/security.ts', await appWith(registerSecurityHeaders)],
];
const times = new Map<string, number[]>(apps.map(([name]) => [name, []]));
const n = Number(requests);
for (let round = 0; round < Number(rounds); round++)
  for (const [name, app] of apps) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await app.inject({ method: 'GET', url: '/ok' });
    const t = process.cpuUsage(t0);
    times.get(name)!.push((t.user + t.system) / n);
  }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bare = median(times.get('no security headers')!);
for (const [name] of apps) {
  const m = median(times.get(name)!);
  console.log(
    `${name.padEnd(20)} ${m.toFixed(1).padStart(7)} µs CPU/request   headers ${(m - bare).toFixed(1)} µs`,
  );
}
for (const [, app] of apps) await app.close();

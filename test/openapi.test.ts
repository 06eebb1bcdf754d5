/**
 * What an integrator's tools make of the served OpenAPI document: `redocly lint` with the
 * recommended rules finds nothing (an operationId on every operation, servers, a licence, a 4xx
 * and a 2xx on every operation...), and the TypeScript types `openapi-typescript` generates from
 * it compile under strict settings.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedOpenApi, type OpenApiDoc } from './openapi-doc.js';
import { serverUrl } from '../api/app.js';

let doc: OpenApiDoc;
let dir: string;

beforeAll(async () => {
  doc = await servedOpenApi();
  dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, ...op })),
  );

describe('the served OpenAPI document', () => {
  it('names every operation uniquely and gives each a 2xx and a 4xx, servers and a licence', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(33);
    const ids = ops.map((o) => o.operationId);
    expect(ops.filter((o) => !o.operationId).map((o) => o.where)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of ops) {
      const statuses = Object.keys(o.responses);
      expect(
        statuses.some((s) => /^2\d\d$/.test(s)),
        o.where,
      ).toBe(true);
      expect(
        statuses.some((s) => /^4\d\d$/.test(s)),
        o.where,
      ).toBe(true);
    }
    // A route lists the problems it can answer, not all of them.
    expect(Object.keys(doc.paths['/v1/decisions/{id}']!.get!.responses)).not.toContain('413');
    expect(Object.keys(doc.paths['/v1/invoices/score']!.post!.responses)).toEqual(
      expect.arrayContaining(['400', '401', '403', '409', '413', '415', '429']),
    );
    expect(doc.info.license).toEqual({
      name: 'Apache-2.0',
      url: 'https://www.apache.org/licenses/LICENSE-2.0',
    });
    expect(doc.servers?.length).toBeGreaterThan(0);
    // Markdown renders `<key>` as HTML (an unknown tag, swallowed) unless it is in a code span.
    expect(doc.info.description).toContain('`Authorization: Bearer <key>`');
    expect(doc.info.description!.replaceAll(/`[^`]*`/g, '')).not.toMatch(/<[a-z]/);
  });

  it('lists the server where HOST and PORT make the service listen', async () => {
    expect(doc.servers?.map((s) => s.url)).toEqual(['http://127.0.0.1:3000']);
    const moved = await servedOpenApi({ listen: { host: '127.0.0.1', port: 3917 } });
    expect(moved.servers?.map((s) => s.url)).toEqual(['http://127.0.0.1:3917']);
    // PORT=0: the port the system chose, not 0.
    const chosen = await servedOpenApi({ listen: { host: '127.0.0.1', port: 0 } }, true);
    expect(chosen.fetchedFrom).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(chosen.servers?.map((s) => s.url)).toEqual([chosen.fetchedFrom]);
    expect(serverUrl({ host: '0.0.0.0', port: 8080 })).toBe('http://127.0.0.1:8080');
    expect(serverUrl({ host: '::1', port: 8080 })).toBe('http://[::1]:8080');
    expect(serverUrl({ host: 'triage.internal', port: 443 })).toBe('http://triage.internal:443');
  });

  it('declares the request body of POST /v1/history: a JSON array of invoices, or NDJSON', () => {
    const body = (
      doc.paths['/v1/history']!.post as unknown as {
        requestBody: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
      }
    ).requestBody;
    expect(body.required).toBe(true);
    expect(Object.keys(body.content).sort()).toEqual(['application/json', 'application/x-ndjson']);
    const score = (
      doc.paths['/v1/invoices/score']!.post as unknown as {
        requestBody: { content: Record<string, { schema: unknown }> };
      }
    ).requestBody.content['application/json']!.schema;
    expect(body.content['application/json']!.schema).toMatchObject({ type: 'array', items: score });
    expect(body.content['application/x-ndjson']!.schema).toMatchObject({ type: 'string' });
  });

  it('declares the document media types (X12, UBL, FHIR) on the routes that take documents, and only there', () => {
    const content = (path: string) =>
      (
        doc.paths[path]!.post as unknown as {
          requestBody: { content: Record<string, { schema: { type?: string; description?: string } }> };
        }
      ).requestBody.content;
    for (const path of ['/v1/invoices/score', '/v1/batches']) {
      const c = content(path);
      expect(Object.keys(c).sort()).toEqual(
        ['application/edi-x12', 'application/fhir+json', 'application/json', 'application/xml'].sort(),
      );
      expect(c['application/edi-x12']!.schema).toMatchObject({ type: 'string' });
      expect(c['application/xml']!.schema.description).toMatch(/UBL 2\.1/);
      expect(c['application/fhir+json']!.schema).toMatchObject({ type: 'object' });
    }
    expect(content('/v1/invoices/score')['application/edi-x12']!.schema.description).toMatch(
      /exactly one invoice/,
    );
    // The ERP load takes JSON only.
    expect(Object.keys(content('/v1/erp/load'))).toEqual(['application/json']);
  });

  it('passes redocly lint with the recommended rules, without a warning', async () => {
    const run = promisify(execFile);
    const bin = join(process.cwd(), 'node_modules', '.bin', 'redocly');
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
    const { stdout, stderr } = await run(
      bin,
      ['lint', 'openapi.json', '--extends=recommended', '--format=json'],
      {
        cwd: dir,
        env,
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((e: { stdout: string; stderr: string }) => e);
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: unknown[];
    };
    expect(report.problems, stderr).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 180_000);

  it('yields TypeScript types (openapi-typescript) that compile strictly', async () => {
    const ast = await openapiTS(JSON.stringify(doc));
    const file = join(dir, 'api.ts');
    writeFileSync(
      file,
      astToString(ast) +
        // The generated types in use: an operation's 400 body and the score request body.
        "\nexport type ScoreBody = paths['/v1/invoices/score']['post']['requestBody'];\n" +
        "export type BadRequest = operations['scoreInvoice']['responses'][400]['content']['application/json'];\n" +
        "export const code: BadRequest['code'] = 'TRIAGE_INPUT_INVALID';\n",
    );
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      types: [],
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 180_000);
});

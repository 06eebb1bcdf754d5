import Fastify from 'fastify';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { validatorCompiler } from './input.js';

describe('validatorCompiler', () => {
  it('refuses a query integer that conversion would truncate, naming it, and converts whole numbers', async () => {
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.get(
      '/x',
      { schema: { querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: -1 })) }) } },
      async (req) => ({ after: (req.query as { after?: number }).after ?? null }),
    );
    const bad = await app.inject({ method: 'GET', url: '/x?after=1.5' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toContain(
      '/after must be written as an integer numeral (e.g. 2, not 2.0 or 2e0)',
    );
    // The body's rule: an integer written with an exponent or a fraction is refused, though
    // TypeBox's conversion would read it as a whole number.
    for (const v of ['1e3', '2.0', '1E0', '+7', ' 7', '0x10']) {
      const r = await app.inject({ method: 'GET', url: `/x?after=${encodeURIComponent(v)}` });
      expect(r.statusCode, v).toBe(400);
      expect(r.json<{ message: string }>().message, v).toContain(
        '/after must be written as an integer numeral',
      );
    }
    const ok = await app.inject({ method: 'GET', url: '/x?after=7' });
    expect(ok.json()).toEqual({ after: 7 });
    expect((await app.inject({ method: 'GET', url: '/x?after=-1' })).json()).toEqual({ after: -1 });
    expect((await app.inject({ method: 'GET', url: '/x?after=abc' })).statusCode).toBe(400);
    await app.close();
  });

  it('names a scalar query parameter given twice, instead of calling it not an integer', async () => {
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.get(
      '/x',
      {
        schema: {
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer()),
            tag: Type.Optional(Type.Array(Type.String())),
          }),
        },
      },
      async (req) => req.query,
    );
    const twice = await app.inject({ method: 'GET', url: '/x?limit=1&limit=2' });
    expect(twice.statusCode).toBe(400);
    expect(twice.json<{ message: string }>().message).toContain('/limit is given 2 times; give it once');
    // A parameter declared as an array may repeat.
    expect((await app.inject({ method: 'GET', url: '/x?tag=a&tag=b' })).json()).toEqual({ tag: ['a', 'b'] });
    // A repeated parameter the route does not declare, named like a prototype member, is not
    // one of its scalars.
    for (const key of ['constructor', '__proto__', 'toString']) {
      const other = await app.inject({ method: 'GET', url: `/x?limit=3&${key}=a&${key}=b` });
      expect(other.statusCode, key).toBe(200);
      expect(other.json<{ limit: number }>().limit, key).toBe(3);
    }
    await app.close();
  });
});

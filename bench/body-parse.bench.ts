#!/usr/bin/env tsx
/**
 * `npx tsx bench/body-parse.bench.ts`: cost of parsing the JSON body of a 10-line invoice with
 * the API's parser (api/body/json.ts: UTF-8 check, JSON.parse, repeated-key and prototype-key
 * scan) beside bare `JSON.parse` of the same bytes. Prints microseconds per body (median of 5
 * rounds of 20 000 parses).
 */
import { parseJsonBody } from '../api/body/json.js';
import { benchInvoice } from './features.bench.js';

const body = Buffer.from(JSON.stringify(benchInvoice(0)));
const ROUNDS = 5;
const N = 20_000;

function usPerParse(parse: (b: Buffer) => unknown): number {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) parse(body);
    rounds.push(Number(process.hrtime.bigint() - t) / N / 1000);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

const bare = usPerParse((b) => JSON.parse(b.toString('utf8')));
const api = usPerParse(parseJsonBody);
console.log(
  `10-line invoice, ${body.length} bytes: JSON.parse ${bare.toFixed(1)} us, API parser ${api.toFixed(1)} us`,
);

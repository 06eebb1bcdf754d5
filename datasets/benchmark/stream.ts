/**
 * Streaming output of the generator: a heap that holds derived invoices until the day they reach
 * AP, and a buffered file writer that hashes what it writes.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Draft } from './invoices.js';

/** A binary min-heap of drafts by (received day, insertion order). */
export class DraftHeap {
  private readonly items: { d: Draft; tie: number }[] = [];
  private tie = 0;
  get size(): number {
    return this.items.length;
  }
  private less(a: number, b: number): boolean {
    const x = this.items[a] as { d: Draft; tie: number };
    const y = this.items[b] as { d: Draft; tie: number };
    return x.d.received < y.d.received || (x.d.received === y.d.received && x.tie < y.tie);
  }
  private swap(a: number, b: number): void {
    const t = this.items[a] as { d: Draft; tie: number };
    this.items[a] = this.items[b] as { d: Draft; tie: number };
    this.items[b] = t;
  }
  push(d: Draft): void {
    this.items.push({ d, tie: this.tie++ });
    for (let i = this.items.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  peek(): Draft | undefined {
    return this.items[0]?.d;
  }
  pop(): Draft | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top && last && this.items.length > 0) {
      this.items[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.items.length && this.less(l, m)) m = l;
        if (r < this.items.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top?.d;
  }
}

/** Buffered writer of one output file with its sha256, byte and record counts. */
export class HashedWriter {
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  private buffer: string[] = [];
  private buffered = 0;
  bytes = 0;
  records = 0;
  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
  }
  async line(text: string): Promise<void> {
    this.buffer.push(text, '\n');
    this.buffered += text.length + 1;
    this.records++;
    if (this.buffered >= 1 << 20) await this.flush();
  }
  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.buffered = 0;
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
  async close(): Promise<{ sha256: string; bytes: number; records: number }> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, records: this.records };
  }
}

/**
 * The tallies the profiling benches print (bench/compute-profile.ts, bench/batch-profile.ts): a
 * sampling heap profile's bytes by allocating function, a CPU profile's samples by function
 * (self and inclusive), as shares of the whole.
 */

/** A node of a CPU profile (the fields read here). */
export interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** A V8 CPU profile (the fields read here). */
export interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
}

/** A node of a sampling heap profile (the fields read here). */
export interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** `name file:line:column` of a call frame, the file relative to the repository. */
export function frameName(f: CpuNode['callFrame']): string {
  const file = f.url.replace(/^.*\/(wt-[^/]+|main)\//, '').replace(/^file:\/\//, '');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
}

/** The top `n` of a tally, as `[name, share %]` rounded to 0.1. */
export function top(tally: Map<string, number>, total: number, n: number): [string, number][] {
  return [...tally]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => [k, Math.round((1000 * v) / total) / 10]);
}

/**
 * Bytes allocated by function in a sampling heap profile; a built-in's allocation (no script) is
 * named with the function that called it (`Array <- f file:line`).
 * @returns the tally (bytes by name) and the total bytes.
 */
export function heapTally(head: HeapNode): { bytes: Map<string, number>; allocated: number } {
  const bytes = new Map<string, number>();
  let allocated = 0;
  const walk = (node: HeapNode, caller: string): void => {
    const name = frameName(node.callFrame);
    const k = node.callFrame.url === '' && caller !== '' ? `${name} <- ${caller}` : name;
    allocated += node.selfSize;
    if (node.selfSize > 0) bytes.set(k, (bytes.get(k) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c, node.callFrame.url === '' ? caller : name);
  };
  walk(head, '');
  return { bytes, allocated };
}

/** Samples by function of a CPU profile: where they stopped (self) and on the stack (inclusive, once per sample). */
export function cpuTally(profile: CpuProfile): { self: Map<string, number>; inclusive: Map<string, number> } {
  const byId = new Map(profile.nodes.map((nd) => [nd.id, nd]));
  const parent = new Map<number, number>();
  for (const nd of profile.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const s of profile.samples) {
    const leaf = frameName(byId.get(s)!.callFrame);
    self.set(leaf, (self.get(leaf) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = s; id !== undefined; id = parent.get(id)) {
      const k = frameName(byId.get(id)!.callFrame);
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
      seen.add(k);
    }
  }
  return { self, inclusive };
}

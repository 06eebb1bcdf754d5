/**
 * Where a TypeBox (JSON Schema) schema declares integers: money in cents (`total_cents`,
 * `unit_price_cents`), counts, line numbers, days. After `JSON.parse`, `215.00`, `2.15e2` and
 * `215` are the same number, so a client sending dollars with a decimal point in a cents field
 * (`12.50` meaning $12.50) could pass an integer check by accident; the JSON parser of
 * api/body/json.ts reads the number as written and refuses, in the places this tree marks,
 * one written with a fraction or an exponent. The schemas stay the one declaration of which
 * fields are integers.
 */

/**
 * The integer places of a schema as a tree following object properties and array items. Only
 * branches leading to an integer place are kept, so a lookup stops at the first place that
 * holds none (a quantity, a confidence, a string).
 */
export interface IntegerFields {
  /** The value here, when it is a number, must be an integer under every option of the schema here. */
  readonly integer: boolean;
  /** Children by declared property name. */
  readonly properties: ReadonlyMap<string, IntegerFields>;
  /** Children of other property names: by `patternProperties`, then `additionalProperties`. */
  readonly patterns: readonly (readonly [RegExp, IntegerFields])[];
  readonly additional: IntegerFields | undefined;
  /** The child of every array item (`items` as a schema). */
  readonly items: IntegerFields | undefined;
  /** Children by array index (a tuple: `items` or `prefixItems` as a list). */
  readonly tuple: readonly (IntegerFields | undefined)[];
}

type Node = Record<string, unknown>;

const isNode = (s: unknown): s is Node => typeof s === 'object' && s !== null && !Array.isArray(s);

/** Nesting followed at most (no request schema nests a tenth as deep; guards a cyclic object). */
const MAX_SCHEMA_DEPTH = 64;

/**
 * The options a value here may match: the schema itself, or the members of its `anyOf`,
 * `oneOf` or `allOf` when it is only a combination (a union of an integer and null, a nullable
 * object), flattened. Boolean schemas and `$ref`s hold no integer place here.
 */
function optionsOf(schemas: readonly unknown[]): Node[] {
  const out: Node[] = [];
  const add = (s: unknown): void => {
    if (!isNode(s)) return;
    const members = [s.anyOf, s.oneOf, s.allOf].flatMap((m) => (Array.isArray(m) ? (m as unknown[]) : []));
    if (members.length > 0 && s.type === undefined) members.forEach(add);
    else out.push(s);
  };
  schemas.forEach(add);
  return out;
}

/** Whether an option takes any number (`number`, or no type and no other constraint) or only integers. */
function numberKind(s: Node): 'integer' | 'fraction' | undefined {
  const types = Array.isArray(s.type) ? (s.type as unknown[]) : [s.type];
  if (types.includes('number')) return 'fraction';
  if (types.includes('integer')) return 'integer';
  if (s.type !== undefined) return undefined;
  const shaped = ['properties', 'items', 'prefixItems', 'patternProperties', 'const', 'enum', '$ref'];
  return shaped.some((k) => k in s) ? undefined : 'fraction';
}

function build(schemas: readonly unknown[], depth: number): IntegerFields | undefined {
  if (depth > MAX_SCHEMA_DEPTH) return undefined;
  const options = optionsOf(schemas);
  if (options.length === 0) return undefined;
  const kinds = new Set(options.map(numberKind));
  const integer = kinds.has('integer') && !kinds.has('fraction');
  const patternsOf = (s: Node): [string, unknown][] =>
    isNode(s.patternProperties) ? Object.entries(s.patternProperties) : [];
  const additionalOf = (s: Node): unknown[] =>
    isNode(s.additionalProperties) ? [s.additionalProperties] : [];

  const properties = new Map<string, IntegerFields>();
  const names = new Set(options.flatMap((s) => (isNode(s.properties) ? Object.keys(s.properties) : [])));
  for (const name of names) {
    const child = build(
      options.flatMap((s) => {
        const own = isNode(s.properties) ? s.properties[name] : undefined;
        if (own !== undefined) return [own];
        const matched = patternsOf(s).filter(([p]) => new RegExp(p, 'u').test(name));
        return matched.length > 0 ? matched.map(([, v]) => v) : additionalOf(s);
      }),
      depth + 1,
    );
    if (child) properties.set(name, child);
  }
  const patterns: [RegExp, IntegerFields][] = [];
  for (const [p, v] of options.flatMap(patternsOf)) {
    const child = build([v], depth + 1);
    if (child) patterns.push([new RegExp(p, 'u'), child]);
  }
  const additional = build(options.flatMap(additionalOf), depth + 1);
  const items = build(
    options.flatMap((s) => (isNode(s.items) ? [s.items] : [])),
    depth + 1,
  );
  const lists = options.flatMap((s) =>
    [s.prefixItems, s.items].filter((l): l is unknown[] => Array.isArray(l)),
  );
  const length = Math.max(0, ...lists.map((l) => l.length));
  const tuple = Array.from({ length }, (_, i) =>
    build(
      lists.map((l) => l[i]),
      depth + 1,
    ),
  );
  const any =
    integer ||
    properties.size > 0 ||
    patterns.length > 0 ||
    additional !== undefined ||
    items !== undefined ||
    tuple.some((t) => t !== undefined);
  return any ? { integer, properties, patterns, additional, items, tuple } : undefined;
}

const cache = new WeakMap<object, IntegerFields | null>();

/**
 * The integer places of `schema` (built once per schema object and kept), or undefined when it
 * declares none: a property of several options (a union) is an integer place only when every
 * option that takes a number there takes only integers.
 */
export function integerFieldsOf(schema: unknown): IntegerFields | undefined {
  if (!isNode(schema)) return undefined;
  let fields = cache.get(schema);
  if (fields === undefined) {
    fields = build([schema], 0) ?? null;
    cache.set(schema, fields);
  }
  return fields ?? undefined;
}

/**
 * The place under `fields` at an object's property `key` (a string) or an array's index (a
 * number); undefined when no integer place lies below it.
 */
export function integerFieldAt(fields: IntegerFields, key: string | number): IntegerFields | undefined {
  if (typeof key === 'number') return fields.tuple[key] ?? fields.items;
  const own = fields.properties.get(key);
  if (own !== undefined) return own;
  for (const [pattern, child] of fields.patterns) if (pattern.test(key)) return child;
  return fields.additional;
}

/**
 * What a number written with a fraction or an exponent in an integer place is told, by its
 * property name: money in cents (`*_cents`) says so.
 */
export function integerNumeralMessage(key: string | number): string {
  return typeof key === 'string' && key.endsWith('_cents')
    ? 'is in cents and must be written as an integer numeral (e.g. 1250, not 12.50 or 1.25e3)'
    : 'must be written as an integer numeral (e.g. 2, not 2.0 or 2e0)';
}

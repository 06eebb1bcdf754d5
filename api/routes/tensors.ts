/**
 * Tensors of the Open Inference Protocol v2 JSON form: the infer request and response schemas,
 * reading the one `features` input (FP32 `[N, F]`, data flat row-major or one array per row)
 * and the requested outputs. Errors name the field (`/inputs/0/shape`, `/inputs/0/data/7`).
 */
import Type, { type Static } from 'typebox';
import { bodyInvalid } from '../problem.js';

/** The outputs every served model has, FP32 `[N, 1]`. */
export const OUTPUT_NAMES = ['logit', 'probability'] as const;

/** An output name. */
export type OutputName = (typeof OUTPUT_NAMES)[number];

/** OIP infer request (JSON). Unknown top-level fields are refused (a misspelling is never ignored). */
export const InferRequest = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256 })),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    inputs: Type.Array(
      Type.Object({
        name: Type.String(),
        shape: Type.Array(Type.Integer({ minimum: -1 }), { maxItems: 8 }),
        datatype: Type.String(),
        parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        data: Type.Array(Type.Union([Type.Number(), Type.Array(Type.Number())]), {
          description: 'Row-major flat values, or one array per row.',
        }),
      }),
      { minItems: 1, maxItems: 8 },
    ),
    outputs: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String(),
          parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }),
        { minItems: 1, maxItems: 8, description: 'Outputs to return, each once; absent for all.' },
      ),
    ),
  },
  { additionalProperties: false },
);
/** An infer request, as validated. */
export type InferRequest = Static<typeof InferRequest>;

/** OIP infer response. */
export const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.Optional(Type.String()),
  outputs: Type.Array(
    Type.Object({
      name: Type.String(),
      shape: Type.Array(Type.Integer()),
      datatype: Type.String(),
      data: Type.Array(Type.Number()),
    }),
  ),
});

/**
 * Reads the `features` tensor of an infer request for a model taking `f` features.
 * @returns row-major float32 values and the row count.
 * @throws TriageError `TRIAGE_INPUT_INVALID` naming the bad field (`/inputs/0/shape`).
 */
export function readFeatures(
  body: InferRequest,
  f: number,
  maxRows: number,
): { data: Float32Array; rows: number } {
  const [input, ...more] = body.inputs;
  if (input === undefined || more.length > 0)
    throw bodyInvalid(`the model takes one input, features; got ${body.inputs.length}`, [
      { path: '/inputs', message: 'must hold exactly one input, features' },
    ]);
  const at = (field: string, message: string) =>
    bodyInvalid(`inputs[0].${field} ${message}`, [{ path: `/inputs/0/${field}`, message }]);
  if (input.name !== 'features') throw at('name', `must be "features", not ${JSON.stringify(input.name)}`);
  if (input.datatype !== 'FP32') throw at('datatype', `must be FP32, not ${JSON.stringify(input.datatype)}`);
  const [n, width] = input.shape;
  if (input.shape.length !== 2 || n === undefined || width !== f || n < 1)
    throw at(
      'shape',
      `must be [N, ${f}] with N >= 1 (the model takes ${f} features), not [${input.shape.join(', ')}]`,
    );
  if (n > maxRows) throw at('shape', `has ${n} rows; at most ${maxRows} per request`);
  const out = new Float32Array(n * f);
  const nested = input.data.some((v) => Array.isArray(v));
  if (!nested) {
    if (input.data.length !== n * f)
      throw at('data', `holds ${input.data.length} values; shape [${n}, ${f}] needs ${n * f}`);
    checkFp32(input.data as number[], 'data');
    out.set(input.data as number[]);
    return { data: out, rows: n };
  }
  if (input.data.length !== n)
    throw at('data', `holds ${input.data.length} rows; shape [${n}, ${f}] needs ${n}`);
  input.data.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== f)
      throw bodyInvalid(`inputs[0].data[${i}] must be a row of ${f} numbers`, [
        { path: `/inputs/0/data/${i}`, message: `must be an array of ${f} numbers` },
      ]);
    checkFp32(row, `data/${i}`);
    out.set(row, i * f);
  });
  return { data: out, rows: n };
}

/** Largest finite FP32 value. */
const FP32_MAX = 3.4028234663852886e38;

/**
 * Refuses values an FP32 tensor cannot hold (they would become ±Infinity and the outputs NaN).
 * @throws TriageError `TRIAGE_INPUT_INVALID` naming the first one (`/inputs/0/data/7`).
 */
function checkFp32(values: readonly number[], at: string): void {
  const j = values.findIndex((v) => !Number.isFinite(Math.fround(v)));
  if (j < 0) return;
  const path = `/inputs/0/${at}/${j}`;
  throw bodyInvalid(`${path.slice(1)} is ${values[j]}, beyond the FP32 range`, [
    { path, message: `must be within ±${FP32_MAX} (FP32)` },
  ]);
}

/**
 * The outputs an infer request asks for (all when it names none).
 * @throws TriageError `TRIAGE_INPUT_INVALID` for an unknown or repeated name (`/outputs/2/name`).
 */
export function requestedOutputs(body: InferRequest): OutputName[] {
  const asked = body.outputs;
  if (!asked) return [...OUTPUT_NAMES];
  return asked.map((o, i) => {
    const name = OUTPUT_NAMES.find((x) => x === o.name);
    if (!name)
      throw bodyInvalid(`outputs[${i}].name must be logit or probability`, [
        { path: `/outputs/${i}/name`, message: 'must be logit or probability' },
      ]);
    const first = asked.findIndex((x) => x.name === o.name);
    if (first !== i)
      throw bodyInvalid(`outputs[${i}].name repeats outputs[${first}]`, [
        { path: `/outputs/${i}/name`, message: `duplicates the name of /outputs/${first}` },
      ]);
    return name;
  });
}

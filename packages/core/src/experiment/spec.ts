import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { UsageError } from '../errors.js';
import type { PluginRegistry } from '../registry/registry.js';
import type { ComparisonSpec } from './run-comparison.js';
import { SCALES, TEST_FIELDS } from './scales.js';
import { MAX_SEED } from './limits.js';
import { schemaOf } from '../options/fields.js';
import { TRAINING_FIELDS } from '../train/training-options.js';

/** An experiment: what to train and compare, on what, at which scale. See docs/experiments.md. */
export interface ExperimentSpec {
  name: string;
  description?: string;
  problem: { id: string; options?: Record<string, unknown> };
  train?: { dataset: string; options?: Record<string, unknown> };
  test: { dataset: string; options?: Record<string, unknown> };
  /** `problem`: problem options a hand-designed optimizer is evaluated with (e.g. { lipschitz: tight }). */
  optimizers: { id: string; label?: string; options?: Record<string, unknown>; checkpoint?: string; problem?: Record<string, unknown> }[];
  seed?: number;
  reference?: { id: string; options?: Record<string, unknown> };
  scales?: Record<string, ScaleOverride>;
}

export interface ScaleOverride {
  training?: Record<string, unknown>;
  test?: { count?: number; batchSize?: number; iterations?: number };
  /** Extra options per dataset id at this scale (e.g. fewer BSDS500 patches for smoke runs). */
  datasetOptions?: Record<string, Record<string, unknown>>;
  /** Where and why this scale departs from the papers' protocol, a sentence each: the figure pages print them. */
  deviations?: string[];
}

const options = { type: 'object' };
const plugin = (extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1 }, options, ...extra },
});
const datasetRef = { type: 'object', additionalProperties: false, required: ['dataset'], properties: { dataset: { type: 'string', minLength: 1 }, options } };
// The training and test settings' schemas come from their option fields (one declaration each);
// a spec sets the seed at the top level, not per scale.
const scaleOverride = {
  type: 'object',
  additionalProperties: false,
  properties: {
    training: schemaOf(TRAINING_FIELDS, ['seed']),
    test: schemaOf(TEST_FIELDS),
    datasetOptions: { type: 'object', additionalProperties: options },
    deviations: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
};

export const EXPERIMENT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'problem', 'test', 'optimizers'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    description: { type: 'string' },
    problem: plugin(),
    train: datasetRef,
    test: datasetRef,
    optimizers: {
      type: 'array',
      minItems: 1,
      items: plugin({ label: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }, checkpoint: { type: 'string' }, problem: { type: 'object' } }),
    },
    seed: { type: 'integer', minimum: 0, maximum: MAX_SEED },
    reference: plugin(),
    scales: { type: 'object', additionalProperties: false, properties: Object.fromEntries(Object.keys(SCALES).map((s) => [s, scaleOverride])) },
  },
} as const;

// Compiled on the first spec read, not when the module loads: every command imports this module,
// few read a spec, and compiling the schema takes a tenth of a second.
let compiled: ValidateFunction<ExperimentSpec> | undefined;
const validator = () => (compiled ??= new Ajv({ allErrors: false, strict: true }).compile<ExperimentSpec>(EXPERIMENT_SCHEMA));

/** `/optimizers/2/options` → `optimizers[2].options`. */
function readablePath(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .concat(extra ? [extra] : []);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(top level)';
}

function describeError(e: ErrorObject): { where: string; what: string } {
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return { where: readablePath(e.instancePath, key), what: `unknown key '${key}'` };
    }
    case 'required':
      return { where: readablePath(e.instancePath), what: `missing key '${(e.params as { missingProperty: string }).missingProperty}'` };
    case 'type':
      return { where: readablePath(e.instancePath), what: `expected ${(e.params as { type: string }).type}` };
    case 'enum':
      return {
        where: readablePath(e.instancePath),
        what: `expected one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      return { where: readablePath(e.instancePath), what: `expected a value that ${e.message}` };
  }
}

/** Where each loaded spec's nodes are (line numbers), for errors found after loading. */
const specLines = new WeakMap<object, (segments: (string | number)[]) => number | undefined>();

/** Reads and validates an experiment spec; every error names the file, the path and what was expected. */
export function loadExperimentSpec(file: string): ExperimentSpec {
  if (existsSync(file) && statSync(file).isDirectory())
    throw new UsageError(`Experiment spec ${file} is a folder.`, 'Give the path of a YAML spec, e.g. experiments/paper/fig1.yaml.');
  if (!existsSync(file)) throw new UsageError(`Experiment spec ${file} does not exist.`, 'Give the path of a YAML spec, e.g. experiments/paper/fig1.yaml.');
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new UsageError(`${file}:${e.linePos?.[0].line ?? '?'}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const value = doc.toJS() as unknown;
  const validate = validator();
  if (!validate(value)) {
    const e = validate.errors![0]!;
    const { where, what } = describeError(e);
    const segments = e.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const node = doc.getIn(segments, true);
    const line = isNode(node) && node.range ? `:${lineCounter.linePos(node.range[0]).line}` : '';
    throw new UsageError(`${file}${line}: ${where}: ${what}.`, 'See docs/experiments.md for the format.');
  }
  specLines.set(value, (segments) => {
    const node = doc.getIn(segments, true);
    return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
  });
  return value;
}

/** Checks ids against the registry and resolves the spec at a scale into a comparison. */
export function resolveExperiment(spec: ExperimentSpec, file: string, scale: string, registry: PluginRegistry): ComparisonSpec {
  const lineOf = specLines.get(spec);
  const at = (where: string, f: () => void) => {
    try {
      f();
    } catch (e) {
      if (e instanceof UsageError) {
        const segments = where
          .split(/[.[\]]+/)
          .filter(Boolean)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
        const line = lineOf?.(segments);
        throw new UsageError(`${file}${line ? `:${line}` : ''}: ${where}: ${e.message}`, e.hint);
      }
      throw e;
    }
  };
  if (!SCALES[scale]) throw new UsageError(`Unknown scale '${scale}'.`, `Use one of: ${Object.keys(SCALES).join(', ')}.`);
  at('problem.id', () => registry.get('problem', spec.problem.id));
  let defaultDataset = '';
  at(spec.problem.options ? 'problem.options' : 'problem.id', () => {
    defaultDataset = registry.get('problem', spec.problem.id).create(spec.problem.options ?? {}).defaultDataset;
  });
  const trainId = spec.train?.dataset ?? defaultDataset;
  for (const [where, id] of [
    ['train.dataset', trainId],
    ['test.dataset', spec.test.dataset],
  ] as const) {
    at(where, () => {
      const reg = registry.get('dataset', id);
      if (!reg.serves.includes(spec.problem.id)) {
        throw new UsageError(`dataset '${id}' does not serve problem '${spec.problem.id}'.`, `It serves: ${reg.serves.join(', ')}.`);
      }
    });
  }
  spec.optimizers.forEach((o, i) => {
    at(`optimizers[${i}].id`, () => registry.getAny(['optimizer', 'model'], o.id));
    // Options are checked by building the optimizer (a model's weights are freed again at once).
    at(o.options ? `optimizers[${i}].options` : `optimizers[${i}].id`, () => {
      const built = registry.getAny(['optimizer', 'model'], o.id).create(o.options ?? {}) as { dispose?: () => void };
      built.dispose?.();
    });
    if (o.problem) {
      at(`optimizers[${i}].problem`, () => {
        if (registry.getAny(['optimizer', 'model'], o.id).kind === 'model') {
          throw new UsageError(`problem options per optimizer are for hand-designed ones; '${o.id}' is learned.`);
        }
        registry.get('problem', spec.problem.id).create({ ...spec.problem.options, ...o.problem });
      });
    }
  });
  const override = spec.scales?.[scale] ?? {};
  const withScaleOptions = (id: string, given?: Record<string, unknown>) => ({ ...override.datasetOptions?.[id], ...given });
  return {
    name: spec.name,
    problem: { id: spec.problem.id, options: spec.problem.options },
    trainDataset: { id: trainId, options: withScaleOptions(trainId, spec.train?.options) },
    testDataset: { id: spec.test.dataset, options: withScaleOptions(spec.test.dataset, spec.test.options) },
    optimizers: spec.optimizers.map(({ problem, ...o }) => ({
      ...o,
      checkpoint: o.checkpoint ? path.resolve(path.dirname(file), o.checkpoint) : undefined,
      ...(problem ? { problemOptions: problem } : {}),
    })),
    scale,
    seed: spec.seed ?? 0,
    training: override.training,
    test: override.test,
    reference: spec.reference,
  };
}

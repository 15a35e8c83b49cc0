/**
 * Model families, registered by kind as TF.js registers kernels: a family's file (families/*.ts) declares its config
 * names, its spec parsing, its builder and what the advisor and the paper suite need to know about it, and nothing
 * else in the package names a family. The built-ins register themselves when nn/models.ts is imported; a family from
 * outside the package calls `registerModelFamily` before its specs are parsed.
 */
import type { BuildContext, Layer } from '../engine/layers/index.js';
import { UserError, check } from '../util/errors.js';
import { didYouMean } from '../util/suggest.js';

/** Any family's spec: its kind and its knobs, a plain JSON object (runs and checkpoints save it as is). */
export interface ModelSpecBase {
  kind: string;
  [knob: string]: unknown;
}

export interface ModelFamily<S extends ModelSpecBase = ModelSpecBase> {
  /** The `kind` of this family's specs. */
  readonly kind: string;
  /** Names a config may give instead of a spec object, in the order error messages list them. */
  readonly names: readonly string[];
  /** A config name → the partial spec it stands for (parsed next as an object), or null when it is not this family's. */
  fromName(name: string): Record<string, unknown> | null;
  /** A partial spec object of this kind → the full spec (missing knobs take defaults); errors name `${field}.knob`. */
  parse(o: Readonly<Record<string, unknown>>, field: string): S;
  /** The layers for inputs of shape `inShape` and `classes` logits; parameters are declared on ctx.store in order. */
  build(spec: S, inShape: readonly number[], classes: number, ctx: BuildContext): Layer[];
  /** The spec of the float64 twin on which the advisor takes Hessian-vector products: a deterministic network. */
  hvpTwin(spec: S): S;
  /** Samples in the advisor's fixed measurement batch (each λ_max estimate costs ~2·lanczosSteps gradients on it). */
  readonly measureSamples: number;
  /** A one-line name for logs and reports of a spec as a config writes it; null: the spec's JSON. */
  label(raw: Readonly<Record<string, unknown>>): string | null;
  /** Whether the paper suite measures the peak RSS of short training runs of this family (minutes per run otherwise). */
  readonly measurePeakRss: boolean;
  /** Said after the advisor's problem name, in parentheses: how the family's layers behave in the measurements. */
  readonly probeNote: string | null;
}

/** What a family must declare; the rest defaults to: named by its kind, the same spec as twin, 64 samples, no label. */
export type ModelFamilyDefinition<S extends ModelSpecBase> = Pick<ModelFamily<S>, 'kind' | 'parse' | 'build'> & Partial<ModelFamily<S>>;

const families = new Map<string, ModelFamily>();

export function registerModelFamily<S extends ModelSpecBase>(def: ModelFamilyDefinition<S>): ModelFamily<S> {
  const names = def.names ?? [def.kind];
  const family: ModelFamily<S> = {
    names,
    fromName: (name) => (names.includes(name) ? { kind: def.kind } : null),
    hvpTwin: (spec) => spec,
    measureSamples: 64,
    label: () => null,
    measurePeakRss: false,
    probeNote: null,
    ...def,
  };
  if (families.has(family.kind)) throw new Error(`model family ${JSON.stringify(family.kind)} is already registered`);
  const taken = family.names.filter((n) => modelNames().includes(n));
  if (taken.length > 0) throw new Error(`model family ${family.kind}: name ${JSON.stringify(taken[0])} is already registered`);
  families.set(family.kind, family as unknown as ModelFamily);
  return family;
}

/** The registered families, in registration order. */
export function modelFamilies(): ModelFamily[] {
  return [...families.values()];
}

/** The names a config may give, in registration order ('mlp', 'cnn', 'resnet20', …). */
export function modelNames(): string[] {
  return modelFamilies().flatMap((f) => f.names);
}

/** The family of a spec (or of a kind); a UserError naming `${field}.kind` when none is registered. */
export function modelFamily(spec: Readonly<ModelSpecBase> | string, field = 'model'): ModelFamily {
  const kind: unknown = typeof spec === 'string' ? spec : spec.kind;
  const family = typeof kind === 'string' ? families.get(kind) : undefined;
  if (family === undefined) {
    throw new UserError(`unknown model kind ${JSON.stringify(kind)}${typeof kind === 'string' ? didYouMean(kind, [...families.keys()]) : ''} (expected ${[...families.keys()].join(', ')})`, `${field}.kind`);
  }
  return family;
}

/** The family registered for `kind`, or undefined. */
export function findModelFamily(kind: unknown): ModelFamily | undefined {
  return typeof kind === 'string' ? families.get(kind) : undefined;
}

/** Knob `k` of a partial spec, `d` when absent; it must be a positive integer. */
export function positiveInt(o: Readonly<Record<string, unknown>>, k: string, d: number, field: string): number {
  const v = o[k] ?? d;
  check(typeof v === 'number' && Number.isInteger(v) && v > 0, `${field}.${k}`, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Layers appended in order, with the output shape of the last one: what a builder threads through. */
export class LayerChain {
  readonly layers: Layer[] = [];
  constructor(public shape: readonly number[]) {}
  add<L extends Layer>(layer: L): L {
    this.layers.push(layer);
    this.shape = layer.outShape;
    return layer;
  }
}

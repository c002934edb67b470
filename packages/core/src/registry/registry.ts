import { UsageError, L2oError } from '../errors.js';
import type { ModelRegistration, PluginKind, PluginRegistrar, RegistrationByKind } from '../contracts/plugin.js';
import { withSafeguardOptions } from '../safeguard/safeguard.js';
import { closest } from './did-you-mean.js';

export interface PluginSource {
  /** npm package name, or the path of a plugin given by path. */
  packageName: string;
  version: string;
  /** Directory of the package. */
  root: string;
}

export type Registered<K extends PluginKind> = RegistrationByKind[K] & { kind: K; source: PluginSource };

const KIND_NAMES: Record<PluginKind, string> = {
  problem: 'problem',
  optimizer: 'optimizer',
  model: 'model',
  dataset: 'dataset',
  pretrained: 'pretrained optimizer',
};

/** Factories of every plugin kind, by id. Ids are unique per kind across all packages. */
export class PluginRegistry {
  private readonly entries: { [K in PluginKind]: Map<string, Registered<K>> } = {
    problem: new Map(),
    optimizer: new Map(),
    model: new Map(),
    dataset: new Map(),
    pretrained: new Map(),
  };
  private readonly sources: PluginSource[] = [];

  /** A registrar that records every registration as coming from `source`. */
  registrarFor(source: PluginSource): PluginRegistrar {
    this.sources.push(source);
    const add =
      <K extends PluginKind>(kind: K) =>
      (r: RegistrationByKind[K]) =>
        this.add(kind, r, source);
    return { problem: add('problem'), optimizer: add('optimizer'), model: add('model'), dataset: add('dataset'), pretrained: add('pretrained') };
  }

  add<K extends PluginKind>(kind: K, registration: RegistrationByKind[K], source: PluginSource): void {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(registration.id)) {
      throw new L2oError(
        `Plugin ${source.packageName} registers the ${KIND_NAMES[kind]} id '${registration.id}', which is not valid.`,
        'Ids are lower-case letters, digits and dashes.',
      );
    }
    const map = this.entries[kind] as Map<string, Registered<K>>;
    const existing = map.get(registration.id);
    if (existing) {
      throw new L2oError(
        `Duplicate ${KIND_NAMES[kind]} id '${registration.id}': registered by both ${existing.source.packageName} and ${source.packageName}.`,
        'Uninstall one of the two packages, or rename the id in one of them.',
      );
    }
    // Every model also takes core's safeguard options (safeguard/safeguard.ts), with no change to the model.
    const own = kind === 'model' ? (withSafeguardOptions(registration as ModelRegistration) as RegistrationByKind[K]) : registration;
    map.set(registration.id, { ...own, kind, source });
  }

  has(kind: PluginKind, id: string): boolean {
    return this.entries[kind].has(id);
  }

  /** The registration of an id; an unknown id fails with the known ids and a suggestion. */
  get<K extends PluginKind>(kind: K, id: string): Registered<K> {
    const found = this.entries[kind].get(id);
    if (found) return found;
    const known = this.ids(kind);
    const suggestion = closest(id, known);
    throw new UsageError(
      `Unknown ${KIND_NAMES[kind]} '${id}'.${suggestion ? ` Did you mean '${suggestion}'?` : ''}`,
      known.length ? `Known ${KIND_NAMES[kind]}s: ${known.join(', ')}.` : `No ${KIND_NAMES[kind]} plugin is installed.`,
    );
  }

  /** Looks an id up among several kinds (e.g. a baseline or a model); unknown: all their ids. */
  getAny<K extends PluginKind>(kinds: readonly K[], id: string): Registered<K> {
    for (const kind of kinds) {
      const found = this.entries[kind].get(id);
      if (found) return found;
    }
    const known = kinds.flatMap((k) => this.ids(k));
    const suggestion = closest(id, known);
    const names = kinds.map((k) => KIND_NAMES[k]).join(' or ');
    throw new UsageError(`Unknown ${names} '${id}'.${suggestion ? ` Did you mean '${suggestion}'?` : ''}`, `Known: ${known.join(', ')}.`);
  }

  /** The pretrained weights `name` of `model`; unknown: the names that model has, with a suggestion. */
  pretrained(model: string, name: string): Registered<'pretrained'> {
    const mine = this.list('pretrained').filter((p) => p.model === model);
    const found = mine.find((p) => p.name === name);
    if (found) return found;
    const names = mine.map((p) => p.name);
    const suggestion = closest(name, names);
    throw new UsageError(
      `No pretrained '${name}' for model '${model}'.${suggestion ? ` Did you mean '${suggestion}'?` : ''}`,
      names.length
        ? `Pretrained for ${model}: ${names.join(', ')} (l2o models --pretrained lists them all).`
        : `None is installed for ${model}: npm install @l2o/pretrained, or train it (drop --pretrained).`,
    );
  }

  ids(kind: PluginKind): string[] {
    return [...this.entries[kind].keys()].sort();
  }

  list<K extends PluginKind>(kind: K): Registered<K>[] {
    return this.ids(kind).map((id) => this.entries[kind].get(id) as Registered<K>);
  }

  /** The packages that registered anything, in discovery order. */
  plugins(): readonly PluginSource[] {
    return this.sources;
  }
}

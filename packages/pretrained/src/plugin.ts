import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PluginRegistrar, PretrainedProvenance } from '@l2o/core';

// The pretrained weights this package ships (dist/checkpoints, copied there by the build from the
// campaign state pretrained.json names), each registered by model and name so that
// `l2o run --model M --pretrained NAME` evaluates it with no training. Node only: it reads files.

export interface ShippedEntry {
  id: string;
  model: string;
  name: string;
  description: string;
  sha256: string;
  file: string;
  trainedWith: PretrainedProvenance;
}

const checkpoints = new URL('./checkpoints/', import.meta.url);

/** The entries dist/checkpoints/index.json lists. */
export function shippedEntries(): ShippedEntry[] {
  return (JSON.parse(readFileSync(new URL('index.json', checkpoints), 'utf8')) as { entries: ShippedEntry[] }).entries;
}

export function register(registrar: PluginRegistrar): void {
  for (const entry of shippedEntries()) {
    registrar.pretrained({
      id: entry.id,
      description: entry.description,
      model: entry.model,
      name: entry.name,
      checkpoint: fileURLToPath(new URL(entry.file, checkpoints)),
      trainedWith: entry.trainedWith,
    });
  }
}

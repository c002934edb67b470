import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { configHash, intOption, loadInstances, numberOption, resolveOptions, saveInstances } from '@l2o/core';
import type { DatasetRegistration, InstanceSet, OptionFields, Rng } from '@l2o/core';
import { RAW_SOURCES, type RawSource } from '../raw/sources.js';
import { locateRaw, type VerifiableDataset } from '../raw/raw-files.js';
import { createRawDataset } from '../raw/raw-dataset.js';
import { ksvd } from '../sparse-coding/ksvd.js';

export const PATCH = 8;
export interface Bsds500Settings {
  patches: number;
  atoms: number;
  sparsity: number;
  iterations: number;
  lambda: number;
}

/**
 * Defaults: 1,000 patches and 128 atoms (SPEC); OMP sparsity 5 — about m/13 for 64-pixel
 * patches, the range K-SVD denoising uses for 8×8 patches, and it leaves most of the 128 atoms in
 * use; 10 K-SVD iterations — the representation error changes by under 1% per iteration after
 * about 8 on these patches (measured by the dictionary test).
 */
export const bsds500OptionFields: OptionFields<Bsds500Settings> = {
  patches: intOption(1000, 'random 8×8 patches (instances)', { min: 1, acceptStrings: true }),
  atoms: intOption(128, 'atoms of the K-SVD dictionary (n)', { min: 1, acceptStrings: true }),
  sparsity: intOption(5, 'OMP sparsity while learning the dictionary', { min: 1, acceptStrings: true }),
  iterations: intOption(10, 'K-SVD iterations', { min: 0, acceptStrings: true }),
  lambda: numberOption(0.5, 'λ of the ℓ1 term', { min: 0, acceptStrings: true }),
};

/** The option names, in declaration order. */
export const BSDS500_OPTIONS = Object.keys(bsds500OptionFields) as readonly (keyof Bsds500Settings)[];

/** The problems BSDS500 serves (declared here only). */
export const BSDS500_SERVES: readonly string[] = ['lasso'];

export function bsds500Settings(options: Record<string, unknown>): Bsds500Settings {
  return resolveOptions({ kind: 'dataset', id: 'bsds500' }, bsds500OptionFields, options);
}

/** Decodes a JPEG to grayscale 0.2125R + 0.7154G + 0.0721B on [0, 1]. */
export function grayscale(file: string): { width: number; height: number; pixels: Float64Array } {
  const image = jpeg.decode(readFileSync(file), { useTArray: true, formatAsRGBA: true });
  const pixels = new Float64Array(image.width * image.height);
  for (let p = 0; p < pixels.length; p++) {
    const o = 4 * p;
    pixels[p] = (0.2125 * image.data[o]! + 0.7154 * image.data[o + 1]! + 0.0721 * image.data[o + 2]!) / 255;
  }
  return { width: image.width, height: image.height, pixels };
}

/**
 * `count` random 8×8 patches from the images (each: image, then row, then column drawn from
 * `rng`), each min–max scaled by (max − min + 1e-3) and then centred: [count, 64] row-major.
 */
export function samplePatches(imageFiles: string[], count: number, rng: Rng): Float64Array {
  const out = new Float64Array(count * PATCH * PATCH);
  const decoded = new Map<number, ReturnType<typeof grayscale>>();
  for (let s = 0; s < count; s++) {
    const index = rng.int(imageFiles.length);
    if (!decoded.has(index)) decoded.set(index, grayscale(imageFiles[index]!));
    const img = decoded.get(index)!;
    const top = rng.int(img.height - PATCH + 1);
    const left = rng.int(img.width - PATCH + 1);
    const patch = out.subarray(s * 64, (s + 1) * 64);
    for (let y = 0; y < PATCH; y++) for (let x = 0; x < PATCH; x++) patch[y * PATCH + x] = img.pixels[(top + y) * img.width + left + x]!;
    let min = Infinity;
    let max = -Infinity;
    for (const v of patch) [min, max] = [Math.min(min, v), Math.max(max, v)];
    let mean = 0;
    for (let i = 0; i < 64; i++) {
      patch[i] = (patch[i]! - min) / (max - min + 1e-3);
      mean += patch[i]!;
    }
    mean /= 64;
    for (let i = 0; i < 64; i++) patch[i]! -= mean;
  }
  return out;
}

/**
 * BSDS500 → LASSO: b = a patch, A = the K-SVD dictionary learned on the patches (shared).
 * `source` defaults to the official one (tests pass one with fewer images).
 */
export function createBsds500Dataset(source: RawSource = RAW_SOURCES.bsds500!): VerifiableDataset {
  const about = {
    id: 'bsds500',
    serves: BSDS500_SERVES,
    description: '1,000 random 8×8 grayscale patches of the 200 BSDS500 test images; A = a 64×128 K-SVD dictionary learned on them; λ = 0.5',
  };
  return createRawDataset(source, about, async (request, ctx) => {
    const settings = bsds500Settings(request.options);
    const key = configHash({ format: 1, settings: { ...settings, lambda: 0 }, rng: request.rng.getState() });
    const dir = path.join(ctx.cacheDir, 'processed', `bsds500-${key}`);
    let set: InstanceSet;
    if (existsSync(dir)) {
      set = loadInstances(dir);
    } else {
      const base = await locateRaw(source, ctx);
      const imageDir = path.join(base, 'bsds500/images/test');
      const files = readdirSync(imageDir)
        .filter((f) => f.endsWith('.jpg'))
        .sort()
        .map((f) => path.join(imageDir, f));
      ctx.log(`bsds500: sampling ${settings.patches} patches and learning a ${settings.atoms}-atom dictionary (K-SVD, ${settings.iterations} iterations)`);
      const patches = samplePatches(files, settings.patches, request.rng);
      const { D, rmse } = ksvd(patches, settings.patches, 64, settings, request.rng);
      set = {
        problem: 'lasso',
        count: settings.patches,
        m: 64,
        n: settings.atoms,
        lambda: settings.lambda,
        sharedA: true,
        A: Float32Array.from(D),
        b: Float32Array.from(patches),
        meta: { dataset: 'bsds500', ...settings, ksvdRmse: rmse },
      };
      await saveInstances(dir, set).catch((e: Error) => {
        if (!existsSync(dir)) throw e;
      });
    }
    const count = Math.min(request.count, set.count);
    return { ...set, count, lambda: settings.lambda, b: set.b.subarray(0, count * 64), meta: { ...set.meta, dataset: 'bsds500' } };
  });
}

export const bsds500Registration: DatasetRegistration = {
  id: 'bsds500',
  description: 'BSDS500 8×8 patches over a K-SVD dictionary (LASSO)',
  serves: BSDS500_SERVES,
  options: bsds500OptionFields,
  create: () => createBsds500Dataset(),
};

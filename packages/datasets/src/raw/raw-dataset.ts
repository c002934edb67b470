import type { DatasetContext, DatasetRequest, InstanceSet } from '@l2o/core';
import { checkRequest } from '../request.js';
import type { RawSource } from './sources.js';
import { describeRaw, fetchRaw, findRaw, verifyRaw, type VerifiableDataset } from './raw-files.js';

/**
 * A dataset read from a source's raw files (BSDS500, the UCI sets), so that they all check requests
 * and describe, fetch and verify their files alike; `load` makes the instances of a checked request.
 */
export function createRawDataset(
  source: RawSource,
  about: { id: string; serves: readonly string[]; description: string },
  load: (request: DatasetRequest, ctx: DatasetContext) => Promise<InstanceSet>,
): VerifiableDataset {
  const { id, serves, description } = about;
  const describe = async (ctx: DatasetContext) => describeRaw(source, ctx, { serves, description });
  const dataset: VerifiableDataset = {
    id,
    serves,
    fixed: true,
    async instances(request, ctx) {
      checkRequest(dataset, request);
      return load(request, ctx);
    },
    describe,
    async fetch(ctx, onProgress) {
      if (!findRaw(source, ctx)) await fetchRaw(source, ctx, onProgress);
      return describe(ctx);
    },
    verify: (ctx, options) => verifyRaw(source, ctx, options),
  };
  return dataset;
}

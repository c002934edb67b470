import { beforeAll } from 'vitest';
import { selectEngine } from '@l2o/core';

/** Selects the cpu engine before the enclosing suite's tests (the suites that do not test every engine). */
export function onCpuEngine(): void {
  beforeAll(async () => {
    await selectEngine('cpu');
  });
}

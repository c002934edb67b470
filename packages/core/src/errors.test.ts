import { describe, expect, it } from 'vitest';
import { engineMemoryError, L2oError, UsageError } from './errors.js';

describe('engineMemoryError', () => {
  it.each([
    'memory access out of bounds',
    'Cannot enlarge memory arrays to size 4294967296 bytes',
    'Array buffer allocation failed',
    'OOM when allocating tensor with shape[64,500,500]',
    'Aborted(). Build with -sASSERTIONS for more info.',
  ])('turns the engine message "%s" into a one-line error with the fix', (message) => {
    const err = engineMemoryError(new RangeError(message));
    expect(err).toBeInstanceOf(L2oError);
    expect(err!.oneLine()).toContain('ran out of memory');
    expect(err!.oneLine()).toContain('--micro-batch');
    expect(err!.oneLine()).not.toContain('\n');
  });

  it('leaves other errors alone', () => {
    expect(engineMemoryError(new Error('Tensor is disposed'))).toBeNull();
    expect(engineMemoryError(new UsageError('out of memory is in the message but it is ours'))).toBeNull();
    expect(engineMemoryError('memory access out of bounds')).toBeNull();
  });
});

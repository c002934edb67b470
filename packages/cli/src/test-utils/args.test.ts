import { describe, expect, it } from 'vitest';
import { args } from './run-cli.js';

describe('args`…`', () => {
  it('splits the literal at whitespace and keeps each value one argument', () => {
    const dir = '/tmp/a folder';
    expect(args`run --model lstm  --out ${dir}`).toEqual(['run', '--model', 'lstm', '--out', '/tmp/a folder']);
    expect(args`run ${['-o', 'a=1']} --json`).toEqual(['run', '-o', 'a=1', '--json']);
  });

  it('joins a value written against a word', () => {
    expect(args`--out=${'x y'} --n ${3}x`).toEqual(['--out=x y', '--n', '3x']);
    expect(args`${'a'}`).toEqual(['a']);
  });
});

import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli } from './test-utils/run-cli.js';

describe('l2o doctor --check', () => {
  it('runs a training segment and an evaluation on WASM and on the cpu engine, and they agree to float32 tolerance', () => {
    const r = runCli(['doctor', '--check', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { chosen, check } = JSON.parse(r.stdout) as {
      chosen: string;
      check: {
        runs: { engine: string; loss: number; finalF: number; seconds: number }[];
        lossError: number;
        gradientError: number;
        finalFError: number;
        agree: boolean;
      };
    };
    expect(chosen).toBe('wasm');
    expect(check.runs.map((x) => x.engine)).toEqual(['wasm', 'cpu']);
    for (const run of check.runs) {
      expect(run.loss).toBeGreaterThan(0);
      expect(run.finalF).toBeGreaterThan(0);
      // 20 iterations of a learned optimizer from x = 0 lower F below the mean training-segment loss.
      expect(run.finalF).toBeLessThan(run.loss);
    }
    // Two engines, not one computation twice: their float32 arithmetic differs in its last bits.
    expect(check.gradientError).toBeGreaterThan(0);
    for (const e of [check.lossError, check.gradientError, check.finalFError]) expect(e).toBeLessThan(1e-4);
    expect(check.agree).toBe(true);
  });

  it('exits 1 with one line when the engines disagree beyond the tolerance, 2 on a bad tolerance', () => {
    const r = runCli(['doctor', '--check', '--tolerance', '0']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /wasm and cpu disagree beyond float32 tolerance/);
    const bad = runCli(['doctor', '--check', '--tolerance', 'tight']);
    expect(bad.code).toBe(2);
    expectOneLineError(bad.stderr, /--tolerance must be a number/);
  });
});

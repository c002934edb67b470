import cliProgress from 'cli-progress';
import type { ComparisonEvent } from '@l2o/core';

const fmt = (s: number) => (Number.isFinite(s) ? (s < 90 ? `${s.toFixed(0)}s` : `${(s / 60).toFixed(1)}min`) : '?');

/**
 * Shows the progress of a comparison: bars on a terminal, a plain line now and then
 * otherwise (logs, CI), nothing in quiet or JSON mode.
 */
export class ComparisonProgress {
  private bar: cliProgress.SingleBar | null = null;
  private current = '';
  private lastLine = 0;

  constructor(
    private readonly enabled: boolean,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  handle(e: ComparisonEvent): void {
    if (!this.enabled) return;
    switch (e.kind) {
      case 'test-set':
        if (e.cached && e.done === e.total) this.line(`test set: ${e.total} instances (cached, with F*)`);
        else this.update('F* (reference solver)', e.done, e.total, '');
        if (e.done === e.total) this.stop();
        break;
      case 'train': {
        const p = e.progress;
        if (p.event === 'micro-batch') {
          this.line(`${e.optimizer}: ${p.message}`);
          break;
        }
        if (p.event === 'skipped' || p.event === 'rollback') this.line(`warning: ${p.message}`);
        const detail = `loss ${p.loss.toPrecision(4)}${p.bestValidation !== undefined ? ` best val ${p.bestValidation.toPrecision(5)}` : ''} seg ${p.segment + 1}/${p.segments} ETA ${fmt(p.etaSeconds)}`;
        this.update(`train ${e.optimizer}`, p.step + 1, p.totalSteps, detail, p.event === 'validation');
        if (p.step + 1 === p.totalSteps && p.event === 'validation') this.stop();
        break;
      }
      case 'train-reused':
        this.line(`${e.optimizer}: reusing the checkpoint of identical config ${e.checkpoint}`);
        break;
      case 'evaluate':
        this.update(`evaluate ${e.optimizer}`, e.done, e.total, '');
        if (e.done === e.total) this.stop();
        break;
      case 'evaluated':
        break;
    }
  }

  private update(label: string, value: number, total: number, detail: string, important = false): void {
    if (!this.tty) {
      const now = Date.now();
      if (important || value === total || now - this.lastLine > 5000) {
        this.line(`${label}: ${value}/${total} ${detail}`.trimEnd());
        this.lastLine = now;
      }
      return;
    }
    if (this.current !== label) {
      this.stop();
      this.current = label;
      this.bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(24)} {bar} {value}/{total} {detail}`, hideCursor: true, stream: process.stderr, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, value, { detail });
    } else {
      this.bar?.update(value, { detail });
    }
  }

  private line(text: string): void {
    this.stop();
    process.stderr.write(`${text}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
    this.current = '';
  }
}

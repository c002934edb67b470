/**
 * At most `n` jobs hold a slot. A free slot goes to the waiting job expected to take longest
 * (longest first keeps every core busy to the end), first come first served among equals.
 * A job's expected time is asked when a slot frees, not when the job starts waiting: the jobs of
 * a sweep all wait from its start, before any duration is known.
 */
export class Slots {
  private waiting: { priority: () => number; order: number; resolve: () => void }[] = [];
  private order = 0;
  constructor(private free: number) {}

  async take(priority: () => number): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push({ priority, order: this.order++, resolve }));
  }

  give(): void {
    if (this.waiting.length === 0) {
      this.free++;
      return;
    }
    const ranked = this.waiting.map((w) => ({ w, p: w.priority() }));
    let best = ranked[0]!;
    for (const r of ranked) if (r.p > best.p || (r.p === best.p && r.w.order < best.w.order)) best = r;
    this.waiting.splice(this.waiting.indexOf(best.w), 1);
    best.w.resolve();
  }
}

/**
 * At most `n` jobs hold a slot. A free slot goes to the waiting job expected to take longest
 * (longest first keeps every core busy to the end); among equals, to the lowest `rank` (a sweep
 * ranks jobs by seed, so that seed 0's run is complete before seed 1's work starts), then first
 * come first served.
 * A job's expected time is asked when a slot frees, not when the job starts waiting: the jobs of
 * a sweep all wait from its start, before any duration is known.
 */
export class Slots {
  private waiting: { priority: () => number; rank: number; order: number; resolve: () => void }[] = [];
  private order = 0;
  constructor(private free: number) {}

  async take(priority: () => number, rank = 0): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push({ priority, rank, order: this.order++, resolve }));
  }

  give(): void {
    if (this.waiting.length === 0) {
      this.free++;
      return;
    }
    const ranked = this.waiting.map((w) => ({ w, p: w.priority() }));
    let best = ranked[0]!;
    const before = (a: (typeof ranked)[number], b: (typeof ranked)[number]) =>
      a.p > b.p || (a.p === b.p && (a.w.rank < b.w.rank || (a.w.rank === b.w.rank && a.w.order < b.w.order)));
    for (const r of ranked) if (before(r, best)) best = r;
    this.waiting.splice(this.waiting.indexOf(best.w), 1);
    best.w.resolve();
  }
}

/**
 * At most `n` jobs hold a slot. A free slot goes to a job of the lowest waiting `group` (a
 * campaign's entries: a later entry's job takes only a slot the earlier ones leave free), within
 * it to the job expected to take longest (longest first keeps every core busy to the end); among
 * equals, to the lowest `rank` (a sweep ranks jobs by seed, so that seed 0's run is complete
 * before seed 1's work starts), then first come first served. A job's expected time is asked when a slot frees, not when the job starts
 * waiting: the jobs of a sweep all wait from its start, before any duration is known. Slots are
 * handed out on the next turn of the event loop, so that every job that becomes ready in this
 * one (a sweep's jobs, and the evaluations of trainings found cached) is a candidate.
 */
export class Slots {
  private waiting: { priority: () => number; rank: number; group: number; order: number; resolve: () => void }[] = [];
  private order = 0;
  private dispatching = false;
  constructor(private free: number) {}

  take(priority: () => number, rank = 0, group = 0): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push({ priority, rank, group, order: this.order++, resolve });
      this.dispatchSoon();
    });
  }

  give(): void {
    this.free++;
    this.dispatchSoon();
  }

  private dispatchSoon(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    setImmediate(() => {
      this.dispatching = false;
      while (this.free > 0 && this.waiting.length) {
        this.free--;
        this.next().resolve();
      }
    });
  }

  /** Removes and returns the waiter a free slot goes to. */
  private next(): Slots['waiting'][number] {
    const ranked = this.waiting.map((w) => ({ w, p: w.priority() }));
    const before = ({ w: a, p: pa }: (typeof ranked)[number], { w: b, p: pb }: (typeof ranked)[number]) =>
      a.group !== b.group ? a.group < b.group : pa !== pb ? pa > pb : a.rank !== b.rank ? a.rank < b.rank : a.order < b.order;
    let best = ranked[0]!;
    for (const r of ranked) if (before(r, best)) best = r;
    this.waiting.splice(this.waiting.indexOf(best.w), 1);
    return best.w;
  }
}

import { describe, expect, it } from 'vitest';
import { Slots } from './slots.js';

/** Starts `labels` waiting on `slots` in order; returns the order in which they got a slot. */
function queue(slots: Slots, labels: string[], priority: (label: string) => number) {
  const got: string[] = [];
  const all = labels.map((l) => slots.take(() => priority(l)).then(() => got.push(l)));
  return { got, all };
}

/** The next turn of the event loop, after the slots' hand-out of this one. */
const turn = () => new Promise((r) => setImmediate(r));

describe('Slots', () => {
  it('gives the free slots on the next turn and then hands each freed slot to one waiter', async () => {
    const slots = new Slots(2);
    const { got } = queue(slots, ['a', 'b', 'c', 'd'], () => 0);
    await turn();
    expect(got).toEqual(['a', 'b']);
    slots.give();
    await turn();
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('hands a freed slot to the longest expected job, and asks for the expectation when the slot frees', async () => {
    const slots = new Slots(1);
    const expected = new Map<string, number>();
    const priority = (l: string) => expected.get(l) ?? Number.POSITIVE_INFINITY;
    const { got, all } = queue(slots, ['first', 'short', 'long', 'unknown', 'long2'], priority);
    await turn();
    expect(got).toEqual(['first']);
    // Learnt while they wait (a sweep learns each optimizer's time from its first seed).
    expected.set('short', 10).set('long', 100).set('long2', 100);
    for (let i = 0; i < 4; i++) {
      slots.give();
      await turn();
    }
    await Promise.all(all);
    // Unknown first (it may be the longest), then longest first, equals in arrival order.
    expect(got).toEqual(['first', 'unknown', 'long', 'long2', 'short']);
  });

  it('among equals, hands a slot to the lowest rank, then in arrival order, the first slots too', async () => {
    const slots = new Slots(1);
    const got: string[] = [];
    const take = (label: string, rank: number) => slots.take(() => Number.POSITIVE_INFINITY, rank).then(() => got.push(label));
    // A sweep's jobs wait in plan order: seed 1's before seed 0's evaluation, ready once its cached training is found.
    const all = [take('seed1-a', 1), take('seed1-b', 1)];
    await Promise.resolve();
    all.push(take('seed0', 0));
    for (let i = 0; i < 3; i++) {
      await turn();
      slots.give();
    }
    await Promise.all(all);
    expect(got).toEqual(['seed0', 'seed1-a', 'seed1-b']);
  });

  it('hands a slot to a job of the lowest group waiting first, and to a later group only when none waits', async () => {
    const slots = new Slots(1);
    const got: string[] = [];
    const take = (label: string, seconds: number, group: number) => slots.take(() => seconds, 0, group).then(() => got.push(label));
    // A campaign: entry 1's long training waits from the start; entry 0's evaluation becomes ready later.
    const all = [take('entry0-train', 100, 0), take('entry1-long', 1000, 1)];
    await turn();
    expect(got).toEqual(['entry0-train']);
    all.push(take('entry0-evaluate', 10, 0));
    slots.give();
    await turn();
    expect(got).toEqual(['entry0-train', 'entry0-evaluate']);
    slots.give();
    await Promise.all(all);
    expect(got).toEqual(['entry0-train', 'entry0-evaluate', 'entry1-long']);
  });

  it('frees the slot when no one waits', async () => {
    const slots = new Slots(1);
    await slots.take(() => 0);
    slots.give();
    let taken = false;
    void slots.take(() => 0).then(() => (taken = true));
    await turn();
    expect(taken).toBe(true);
  });
});

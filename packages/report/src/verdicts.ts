import { formatGap } from './summary.js';
import type { SeedAggregate, SeedStat } from './seeds.js';

// The paper's claims, tested one by one against figures aggregated over seeds. An optimizer is
// "better" than another at iteration k when its 95% interval of the mean relative gap lies wholly
// below the other's (intervals that overlap are a tie): with few seeds that is a strict test, and
// a claim it cannot decide is "inconclusive", not "holds".

export type Verdict = 'holds' | 'does not hold' | 'inconclusive' | 'not run';

export interface ClaimVerdict {
  claim: number;
  text: string;
  figures: string[];
  /** What was measured, with numbers. */
  measured: string;
  verdict: Verdict;
  /** One sentence why. */
  why: string;
}

/** Parameter counts of the learned optimizers at the spec's sizes, and the gru sizes that would give the paper's 25–35% fewer than lstm. */
export interface ParameterCounts {
  lstm: number;
  gru: number;
  /** gru hidden sizes h (with their counts) whose count is 65–75% of lstm's. */
  paperRange: { hidden: number; parameters: number }[];
}

type Order = 'better' | 'worse' | 'tie';

const statAt = (agg: SeedAggregate, label: string, k: number): SeedStat | undefined => agg.optimizers.find((o) => o.label === label)?.gap[k];

/** a against b at iteration k: better (a's interval wholly below b's), worse, or tie. */
export function compareAt(agg: SeedAggregate, a: string, b: string, k: number): Order {
  const x = statAt(agg, a, k);
  const y = statAt(agg, b, k);
  if (!x || !y || !Number.isFinite(x.mean) || !Number.isFinite(y.mean) || !Number.isFinite(x.half) || !Number.isFinite(y.half)) return 'tie';
  if (x.mean + x.half < y.mean - y.half) return 'better';
  if (y.mean + y.half < x.mean - x.half) return 'worse';
  return 'tie';
}

/** The iterations a claim is judged at: 20, 50 and the last (those that exist). */
export function judgedIterations(agg: SeedAggregate): number[] {
  return [...new Set([20, 50, agg.iterations].filter((k) => k <= agg.iterations))];
}

const gapText = (agg: SeedAggregate, label: string, k: number) => {
  const s = statAt(agg, label, k);
  if (!s) return `${label} —`;
  return `${label} ${formatGap(s.mean)}${Number.isFinite(s.half) ? ` ± ${formatGap(s.half)}` : ''}`;
};

const present = (agg: SeedAggregate, labels: readonly string[]) => labels.filter((l) => agg.optimizers.some((o) => o.label === l));

/** "x is better (best) or worse (worst) than every one of `others` at every judged k." */
function extreme(agg: SeedAggregate, x: string, others: readonly string[], side: 'best' | 'worst'): { verdict: Verdict; why: string } {
  const ks = judgedIterations(agg);
  const [wanted, against] = side === 'best' ? (['better', 'worse'] as const) : (['worse', 'better'] as const);
  for (const k of ks) {
    const contrary = others.filter((o) => compareAt(agg, x, o, k) === against);
    if (contrary.length) {
      return {
        verdict: 'does not hold',
        why:
          side === 'best'
            ? `at k = ${k}, ${contrary.join(', ')} ${contrary.length > 1 ? 'are' : 'is'} significantly better than ${x}`
            : `at k = ${k}, ${x} is significantly better than ${contrary.join(', ')}`,
      };
    }
  }
  const undecided = ks.flatMap((k) => others.filter((o) => compareAt(agg, x, o, k) !== wanted).map((o) => `${o} at k = ${k}`));
  if (undecided.length) {
    return {
      verdict: 'inconclusive',
      why: `${x} is never significantly ${against}, but its 95% intervals overlap those of ${undecided.slice(0, 3).join('; ')}${undecided.length > 3 ? '; …' : ''}`,
    };
  }
  return { verdict: 'holds', why: `${x}'s 95% interval lies ${side === 'best' ? 'below' : 'above'} every other's at k = ${ks.join(', ')}` };
}

const best = (agg: SeedAggregate, x: string, others: readonly string[]) => extreme(agg, x, others, 'best');
const worst = (agg: SeedAggregate, x: string, others: readonly string[]) => extreme(agg, x, others, 'worst');

/** "x and y are on par": a tie at every judged k. */
function onPar(agg: SeedAggregate, x: string, y: string): { verdict: Verdict; why: string } {
  const ks = judgedIterations(agg);
  const apart = ks.filter((k) => compareAt(agg, x, y, k) !== 'tie');
  if (apart.length) {
    const k = apart[0]!;
    return { verdict: 'does not hold', why: `at k = ${k}, ${compareAt(agg, x, y, k) === 'better' ? x : y} is significantly better` };
  }
  if (agg.seeds.length < 2) return { verdict: 'inconclusive', why: 'one seed: no interval to compare' };
  return { verdict: 'holds', why: `their 95% intervals overlap at k = ${ks.join(', ')}` };
}

/** Claim 4's second half: iterations before lstm that gru-mha reaches the lowest threshold both reach in every seed. */
function lead(agg: SeedAggregate): { measured: string; verdict: Verdict; why: string } {
  const a = agg.optimizers.find((o) => o.label === 'gru-mha');
  const b = agg.optimizers.find((o) => o.label === 'lstm');
  if (!a || !b) return { measured: '—', verdict: 'not run', why: 'gru-mha or lstm missing' };
  const n = agg.seeds.length;
  const thresholds = Object.keys(a.iterationsTo)
    .filter((t) => a.iterationsTo[t]!.reached === n && b.iterationsTo[t]?.reached === n)
    .sort((x, y) => Number(x) - Number(y));
  const t = thresholds[0];
  if (t === undefined)
    return { measured: 'no threshold reached by both in every seed', verdict: 'inconclusive', why: 'neither reaches a common threshold in every seed' };
  const d = b.iterationsTo[t]!.mean! - a.iterationsTo[t]!.mean!;
  return {
    measured: `to ${Number(t).toExponential(0)}: gru-mha ${a.iterationsTo[t]!.mean!.toFixed(1)}, lstm ${b.iterationsTo[t]!.mean!.toFixed(1)} iterations (${d >= 0 ? `${d.toFixed(1)} earlier` : `${(-d).toFixed(1)} later`})`,
    verdict: d >= 20 && d <= 30 ? 'holds' : 'does not hold',
    why: d >= 20 && d <= 30 ? 'the lead is within the paper’s 20–30 iterations' : `the lead is ${d.toFixed(1)} iterations, outside 20–30`,
  };
}

const LEARNED = ['lstm', 'gru', 'gru-mha'];
const ALL_FIG3 = ['lstm', 'sgd', 'adam', 'ista', 'fista', 'l2o-dm', 'rnnprop'];

/** Joins sub-verdicts: any "does not hold" wins, then "not run", then "inconclusive". */
function join(parts: { verdict: Verdict; why: string }[]): { verdict: Verdict; why: string } {
  for (const v of ['does not hold', 'not run', 'inconclusive'] as const) {
    const hit = parts.find((p) => p.verdict === v);
    if (hit) return { verdict: v, why: parts.map((p) => p.why).join('; ') };
  }
  return { verdict: 'holds', why: parts.map((p) => p.why).join('; ') };
}

/**
 * The verdict on each of the paper's five claims, from the figures available (by name: fig1 …
 * fig7, each aggregated over its seeds). A claim whose figures are missing is "not run".
 */
export function judgeClaims(figures: Readonly<Record<string, SeedAggregate | undefined>>, parameters: ParameterCounts | null): ClaimVerdict[] {
  const out: ClaimVerdict[] = [];
  const measuredAt = (agg: SeedAggregate, labels: string[]) => {
    const k = agg.iterations;
    return `${agg.name} (${agg.seeds.length} seeds), gap at k = ${k}: ${present(agg, labels)
      .map((l) => gapText(agg, l, k))
      .join(', ')}`;
  };
  const notRun = (claim: number, text: string, names: string[]): ClaimVerdict => ({
    claim,
    text,
    figures: names,
    measured: '—',
    verdict: 'not run',
    why: `${names.filter((n) => !figures[n]).join(', ')} not run yet (neither in the run store nor kept in data/)`,
  });

  const f1 = figures.fig1;
  const t1 = 'In distribution (LASSO): gru is best; gru-mha is on par with lstm.';
  out.push(
    f1
      ? {
          claim: 1,
          text: t1,
          figures: ['fig1'],
          measured: measuredAt(f1, LEARNED),
          ...join([best(f1, 'gru', ['lstm', 'gru-mha']), onPar(f1, 'gru-mha', 'lstm')]),
        }
      : notRun(1, t1, ['fig1']),
  );

  const f2 = figures.fig2;
  const t2 = 'Out of distribution (BSDS500): the order reverses — gru-mha best, gru worst of the three.';
  out.push(
    f2
      ? {
          claim: 2,
          text: t2,
          figures: ['fig2'],
          measured: measuredAt(f2, LEARNED),
          ...join([best(f2, 'gru-mha', ['lstm', 'gru']), worst(f2, 'gru', ['lstm', 'gru-mha'])]),
        }
      : notRun(2, t2, ['fig2']),
  );

  const t3 = 'In distribution (figs. 3, 5): gru-mha matches lstm and beats SGD, Adam, ISTA, FISTA, L2O-DM and RNNProp.';
  const in3 = ['fig3', 'fig5'].filter((n) => figures[n]);
  out.push(
    in3.length === 2
      ? {
          claim: 3,
          text: t3,
          figures: ['fig3', 'fig5'],
          measured: in3.map((n) => measuredAt(figures[n]!, ['gru-mha', ...ALL_FIG3])).join(' · '),
          ...join(
            in3.flatMap((n) => {
              const agg = figures[n]!;
              // Every hand-designed and older learned optimizer of the figure (the *-tight baselines too).
              const others = agg.optimizers.map((o) => o.label).filter((l) => !['gru-mha', 'lstm'].includes(l) && !l.endsWith('-safe'));
              return [onPar(agg, 'gru-mha', 'lstm'), best(agg, 'gru-mha', others)].map((p) => ({ ...p, why: `${n}: ${p.why}` }));
            }),
          ),
        }
      : notRun(3, t3, ['fig3', 'fig5']),
  );

  const t4 = 'Out of distribution (figs. 4, 6, 7): gru-mha beats every other optimizer and reaches the best objective 20–30 iterations before lstm.';
  const ood = ['fig4', 'fig6', 'fig7'];
  out.push(
    ood.every((n) => figures[n])
      ? (() => {
          const parts = ood.flatMap((n) => {
            const agg = figures[n]!;
            const others = agg.optimizers.map((o) => o.label).filter((l) => l !== 'gru-mha' && !l.endsWith('-safe'));
            const b = best(agg, 'gru-mha', others);
            const l = lead(agg);
            return [
              { verdict: b.verdict, why: `${n}: ${b.why}` },
              { verdict: l.verdict, why: `${n}: ${l.why}` },
            ];
          });
          return {
            claim: 4,
            text: t4,
            figures: ood,
            measured: ood
              .map((n) => `${measuredAt(figures[n]!, present(figures[n]!, [...new Set([...LEARNED, ...ALL_FIG3])]))}; ${lead(figures[n]!).measured}`)
              .join(' · '),
            ...join(parts),
          };
        })()
      : notRun(4, t4, ood),
  );

  const t5 = 'gru has 25–35% fewer parameters than lstm.';
  if (parameters) {
    const fewer = 1 - parameters.gru / parameters.lstm;
    const range = parameters.paperRange;
    out.push({
      claim: 5,
      text: t5,
      figures: [],
      measured: `gru ${parameters.gru.toLocaleString('en')} vs lstm ${parameters.lstm.toLocaleString('en')} parameters: ${(100 * fewer).toFixed(1)}% fewer`,
      verdict: fewer >= 0.25 && fewer <= 0.35 ? 'holds' : 'does not hold',
      why:
        (fewer >= 0.25 && fewer <= 0.35 ? 'within 25–35% at the spec’s sizes' : `outside 25–35% at the spec’s sizes (both with the same hidden size)`) +
        (range.length
          ? `; a gru of hidden size ${range.map((r) => `${r.hidden} (${r.parameters.toLocaleString('en')} parameters, ${(100 * (1 - r.parameters / parameters.lstm)).toFixed(1)}% fewer)`).join(' or ')} against this lstm would give the paper's range`
          : ''),
    });
  } else out.push({ claim: 5, text: t5, figures: [], measured: '—', verdict: 'not run', why: 'parameter counts not given' });
  return out;
}

/** The verdict table as Markdown. */
export function verdictTableMarkdown(verdicts: readonly ClaimVerdict[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| claim | figure | measured | verdict | why |',
    '| --- | --- | --- | --- | --- |',
    ...verdicts.map((v) => `| ${v.claim}. ${cell(v.text)} | ${v.figures.join(', ') || '—'} | ${cell(v.measured)} | **${v.verdict}** | ${cell(v.why)} |`),
  ].join('\n');
}

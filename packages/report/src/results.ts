import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { formatDuration, L2oError, writeFileAtomic } from '@l2o/core';
import type { TopLevelSpec } from 'vega-lite';
import { colourScheme, CONVERGENCE_FRAME, renderSvg, svgToPng } from './plot.js';
import type { LoadedRun } from './rerender.js';
import { writeFigureData, type ValidationSeries } from './figure-data.js';
import { aggregateSeeds, seedTableMarkdown, type SeedAggregate } from './seeds.js';
import { formatGap } from './summary.js';
import { STABILITY_FIGURES, stabilityMarkdown, type StabilityArm, type StoppedTraining } from './stability.js';
import { seedMedianSvg, seedPlotTitle } from './seeds-plot.js';
import {
  decidedAcrossScales,
  EQUIVALENCE_MARGIN,
  judgeClaims,
  MIN_DECIDING_SEEDS,
  pairedComparisonsMarkdown,
  verdictTableMarkdown,
  type ClaimVerdict,
  type ParameterCounts,
} from './verdicts.js';

/** The stored runs of one figure at one scale (the newest of each seed), with their provenance. */
export interface FigureRuns {
  name: string;
  runs: LoadedRun[];
  /** The git commits the runs were made at (none known: empty). */
  commits: string[];
  engines: string[];
  /** The command that reproduces the runs, and the one that regenerates this page. */
  reproduce: string;
  regenerate: string;
  /** Each learned optimizer's validation losses per seed (the runs' training logs), when kept. */
  validation?: ValidationSeries[];
  /** Trainings of the figure that stopped on a non-finite loss (their seeds have no run), from a campaign's state. */
  stopped?: StoppedTraining[];
  /** Where the scale departs from the papers' protocol, as the figure's spec states it. */
  deviations?: { spec: string; items: string[] };
}

/**
 * Which trainings skipped steps on a non-finite loss (their updates dropped), from their logs; with
 * `onNonFinite: skip` and none skipped, that the rule never acted.
 */
export function skippedLines(runs: readonly LoadedRun[], validation: readonly ValidationSeries[]): string[] {
  const skipping = validation.filter((v) => v.skipped?.length);
  if (skipping.length) {
    const steps = (xs: number[]) => (xs.length <= 8 ? xs.join(', ') : `${xs.slice(0, 8).join(', ')}, …`);
    const each = skipping.map((v) => `${v.label} seed ${v.seed}: ${v.skipped!.length} (step${v.skipped!.length === 1 ? '' : 's'} ${steps(v.skipped!)})`);
    return [`Steps skipped on a non-finite loss (the weights and Adam state before each restored): ${each.join('; ')}.`, ''];
  }
  // Only when every log was read for it (data kept before then does not say).
  const skipRule = runs.some((r) => r.summary.training?.onNonFinite === 'skip');
  return skipRule && validation.length && validation.every((v) => v.skipped) ? ['No training skipped a step: the non-finite rule never acted.', ''] : [];
}

/**
 * Which weights were tested: each training's best validation (the first of the lowest finite
 * losses, as the trainer keeps it), by step; and the trainings whose best came in the first fifth
 * of the budget, whose tested weights are barely trained (no later validation came below it).
 */
export function keptWeightsLines(
  runs: readonly LoadedRun[],
  validation: readonly ValidationSeries[],
  order: readonly string[] = [...new Set(validation.map((v) => v.label))],
): string[] {
  const best = validation.flatMap((v) => {
    const finite = v.points.filter((p) => Number.isFinite(p.loss));
    if (!finite.length) return [];
    const first = finite.reduce((a, b) => (b.loss < a.loss ? b : a));
    const steps = Number(runs.find((r) => r.summary.seed === v.seed)?.summary.training?.globalSteps ?? runs[0]?.summary.training?.globalSteps);
    return [{ label: v.label, seed: v.seed, step: first.step, steps: Number.isFinite(steps) ? steps : undefined }];
  });
  if (!best.length) return [];
  const labels = [...new Set([...order, ...best.map((b) => b.label)])].filter((label) => best.some((b) => b.label === label));
  const each = labels.map((label) => {
    const mine = best.filter((b) => b.label === label).sort((a, b) => a.seed - b.seed);
    return `${label} ${mine.map((b) => b.step).join(', ')} (seed${mine.length === 1 ? '' : 's'} ${mine.map((b) => b.seed).join(', ')})`;
  });
  const early = best.filter((b) => b.steps !== undefined && b.step <= b.steps / 5);
  return [
    `The weights tested are each training's best validation, from the step: ${each.join('; ')}.` +
      (early.length
        ? ` Best in the first fifth of the budget, so tested barely trained (no later validation came below it): ${early.map((b) => `${b.label} seed ${b.seed} (step ${b.step} of ${b.steps})`).join(', ')}.`
        : ''),
    '',
  ];
}

/** Training settings that are execution details, not protocol: they do not change what is trained. */
const NOT_PROTOCOL = new Set(['seed', 'microBatch', 'workers']);

/**
 * What the runs were trained and tested with, from their summaries (the first run's; the page
 * says when the seeds' settings differ), and the deviations from the papers' protocol the spec states.
 */
export function protocolLines(runs: readonly LoadedRun[], deviations?: FigureRuns['deviations']): string[] {
  const first = runs[0]?.summary;
  if (!first) return [];
  const settings = (t: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(t ?? {}).flatMap(([k, v]) => (NOT_PROTOCOL.has(k) ? [] : [[k, String(v)]]))) as Record<string, string>;
  const t = settings(first.training);
  const differ = runs.some((r) => JSON.stringify(settings(r.summary.training)) !== JSON.stringify(t));
  const named = ['globalSteps', 'batchSize', 'iterations', 'unroll', 'learningRate', 'validateEvery', 'validationSize', 'validationIterations', 'onNonFinite'];
  const others = Object.entries(t).filter(([k]) => !named.includes(k));
  const training =
    'globalSteps' in t
      ? `meta-trained ${t.globalSteps} global steps of ${t.batchSize} instances (K = ${t.iterations} in segments of ${t.unroll}), Adam ${t.learningRate}, ` +
        `validated every ${t.validateEvery} steps on ${t.validationSize} instances (${t.validationIterations} iterations), on a non-finite loss ${t.onNonFinite}` +
        (others.length ? `, ${others.map(([k, v]) => `${k} ${v}`).join(', ')}` : '') +
        '; '
      : '';
  return [
    `Protocol: ${training}tested on ${first.testInstances} instances for ${first.iterations} iterations${differ ? ' (the seeds’ training settings differ: see data/)' : ''}.`,
    '',
    ...(deviations?.items.length
      ? [`Deviations from the papers' protocol (stated in ${deviations.spec}):`, '', ...deviations.items.map((d) => `- ${d}`), '']
      : []),
  ];
}

/** Which raw files the figure's test sets came from (real data only): one line per distinct set of files. */
function testDataLines(runs: readonly LoadedRun[]): string[] {
  const seen = new Map<string, { dataset: string; files: number; seeds: number[] }>();
  for (const { summary } of runs) {
    const t = summary.testData;
    if (!t) continue;
    const entry = seen.get(t.manifestSha256) ?? { dataset: t.dataset, files: t.files, seeds: [] };
    entry.seeds.push(summary.seed);
    seen.set(t.manifestSha256, entry);
  }
  if (!seen.size) return [];
  const known = runs.filter((r) => r.summary.testData).length;
  return [
    ...[...seen].map(
      ([sha, e]) =>
        `Test data: ${e.dataset}, ${e.files} raw file${e.files === 1 ? '' : 's'} with the official checksums (manifest SHA-256 ${sha.slice(0, 16)}…; seeds ${e.seeds.join(', ')}).`,
    ),
    ...(known < runs.length ? [`(${runs.length - known} run${runs.length - known === 1 ? '' : 's'} made before runs recorded their test data.)`] : []),
    '',
  ];
}

/**
 * The validation curves of a figure's trainings: loss against global step, a line per optimizer
 * and seed. Losses above 1.5× the median (a diverged or not yet started validation) are drawn at
 * that cap, so that the differences between the flattened curves stay visible. `order` is the
 * figure's optimizers in its order (baselines included): each learned one takes the colour it has
 * in the figure's convergence plot, and the legend lists only those drawn.
 */
export function validationSpec(
  name: string,
  series: NonNullable<FigureRuns['validation']>,
  order: readonly string[] = [...new Set(series.map((s) => s.label))],
): TopLevelSpec {
  const drawn = order.filter((label) => series.some((s) => s.label === label));
  const scheme = colourScheme(order.length).scale ?? {};
  const losses = series
    .flatMap((s) => s.points.map((p) => p.loss))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const cap = 1.5 * (losses[Math.floor(losses.length / 2)] ?? 1);
  const values = series.flatMap((s) =>
    s.points.map((p) => ({ optimizer: s.label, seed: String(s.seed), step: p.step, loss: Number.isFinite(p.loss) ? Math.min(p.loss, cap) : cap })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${name}: validation loss during training`,
      subtitle: `one line per optimizer and seed; losses above ${cap.toPrecision(3)} (1.5× the median) drawn at it`,
    },
    ...CONVERGENCE_FRAME.size,
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'global step' },
      y: { field: 'loss', type: 'quantitative', scale: { zero: false }, title: 'validation loss (mean F over K iterations)' },
      color: { field: 'optimizer', type: 'nominal', title: 'optimizer', scale: { domain: [...order], ...scheme }, legend: { values: drawn } },
      detail: { field: 'seed', type: 'nominal' },
    },
  };
}

/** Where the generated verdict table goes in a hand-written README: between these two lines. */
export const VERDICTS_BEGIN = '<!-- verdicts:begin (generated by `l2o results`; do not edit by hand) -->';
export const VERDICTS_END = '<!-- verdicts:end -->';

export interface ResultsWritten {
  files: string[];
  figures: SeedAggregate[];
  verdicts: ClaimVerdict[];
}

const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'unknown');

/** How the verdicts are reached, below each verdict table; `minSeeds` as the pages were made with. */
const method = (minSeeds: number) =>
  'Two optimizers are compared on the same test instances: the median over instances (pooled over seeds) of the log10 ratio of their relative gaps, each floored at the figure’s float64 resolution, with a 95% hierarchical bootstrap interval (seeds, then instances) widened to the Student-t interval of the seeds’ own medians (with three seeds, resampling seeds alone excludes 0 whenever the three agree in sign: 1 time in 4 with no difference). ' +
  `One is better when that interval lies wholly on its side of 0; two are on par when it lies within ±${EQUIVALENCE_MARGIN.toFixed(2)} (gaps within a factor of 2: an equivalence test, so neither a difference too small to matter nor an interval too wide to tell makes them on par or not). ` +
  'A claim "holds" when every comparison it makes is shown in its direction at k = 20, 50 and the last iteration, "does not hold" when one is shown against it, and is "inconclusive" otherwise; "measured" gives median gaps over instances, and each figure’s page every comparison made on it. ' +
  `A figure decides claims once it has ${minSeeds} seed${minSeeds === 1 ? '' : 's'}${minSeeds === MIN_DECIDING_SEEDS ? ' (the protocol’s)' : ` (\`l2o results --min-seeds ${minSeeds}\`; the protocol’s are ${MIN_DECIDING_SEEDS})`}; until then its claims are "not run" at its scale.`;

/** One scale's pages written, with its verdicts and a line naming its figures. */
interface ScalePages extends ResultsWritten {
  scale: string;
  figuresLine: string;
}

/**
 * Writes every figure's page into `outDir` — `<name>.md` (provenance, command, table over
 * seeds), `<name>.svg` and `<name>.png` (the mean with its 95% band) — and the verdict table on
 * the paper's claims: into `outDir/README.md` between VERDICTS_BEGIN and VERDICTS_END where the
 * README has them, else into `outDir/verdicts.md`. Returns the files written.
 */
export async function writeResults(
  figures: readonly FigureRuns[],
  parameters: ParameterCounts | null,
  outDir: string,
  /** Other files whose verdict block (between the markers) is replaced too, e.g. the project's README. */
  alsoInto: readonly string[] = [],
  /** Seeds a figure needs before it decides a claim. */
  minSeeds = MIN_DECIDING_SEEDS,
): Promise<ResultsWritten> {
  const pages = await writeScalePages(figures, parameters, outDir, minSeeds);
  const block = [VERDICTS_BEGIN, '', verdictTableMarkdown(pages.verdicts), '', pages.figuresLine, method(minSeeds), '', VERDICTS_END].join('\n');
  const compact = [
    VERDICTS_BEGIN,
    '',
    verdictTableMarkdown(pages.verdicts, { compact: true }),
    '',
    `${pages.figuresLine} ${detailsLink(outDir, alsoInto)}`,
    '',
    VERDICTS_END,
  ].join('\n');
  const files = [...pages.files, ...writeVerdictBlocks(outDir, block, alsoInto, compact)];
  return { files, figures: pages.figures, verdicts: pages.verdicts };
}

/**
 * The pages of several scales, each in `outDir/<scale>/` (as writeResults writes one), and one
 * verdict table deciding each claim at the first scale, in the order given (the largest first), that
 * ran its figures, saying which; below it each scale's own table. The block goes where writeResults
 * puts it; `alsoInto` gets the decided table and each later scale's, compact (the first scale's
 * verdicts are the decided table's wherever it ran). A scale without figures is listed as not run yet.
 */
export async function writeResultsAtScales(
  scales: readonly { scale: string; figures: readonly FigureRuns[] }[],
  parameters: ParameterCounts | null,
  outDir: string,
  alsoInto: readonly string[] = [],
  minSeeds = MIN_DECIDING_SEEDS,
): Promise<ResultsWritten & { byScale: { scale: string; verdicts: ClaimVerdict[] }[] }> {
  const written: ScalePages[] = [];
  for (const { scale, figures } of scales)
    if (figures.length) written.push({ ...(await writeScalePages(figures, parameters, path.join(outDir, scale), minSeeds)), scale });
  const decided = decidedAcrossScales(written);
  const none = scales.filter((s) => !s.figures.length).map((s) => s.scale);
  const decidedLine = (follows: string) =>
    `Each claim is decided at the first of ${scales.map((s) => s.scale).join(', ')} at which its figures ran (the column "decided at"); ${follows}.${none.length ? ` No figure has runs at ${none.join(', ')} scale yet.` : ''}`;
  const section = (p: ScalePages, compact: boolean) => [
    `### At ${p.scale} scale (pages: [${p.scale}/](${link(alsoInto.length && compact ? path.dirname(alsoInto[0]!) : outDir, path.join(outDir, p.scale, 'README.md')).replace(/README\.md$/, '')}))`,
    '',
    // The front page shows the first scale's verdicts once, in the decided table: its own table there
    // would repeat them (and its "not run" rows say no more than the column "decided at").
    compact && p === written[0]
      ? `The table above gives its verdicts wherever its figures ran; its own table, with the claims not run there, is in [docs/results](${link(path.dirname(alsoInto[0] ?? outDir), path.join(outDir, 'README.md'))}).`
      : verdictTableMarkdown(p.verdicts, { compact }),
    '',
    p.figuresLine,
    '',
  ];
  const block = [
    VERDICTS_BEGIN,
    '',
    decidedLine("each scale's own table follows"),
    '',
    verdictTableMarkdown(decided),
    '',
    ...written.flatMap((p) => section(p, false)),
    method(minSeeds),
    '',
    VERDICTS_END,
  ].join('\n');
  const compact = [
    VERDICTS_BEGIN,
    '',
    decidedLine("each scale's figures follow, and the later scales' own tables"),
    '',
    verdictTableMarkdown(decided, { compact: true }),
    '',
    ...written.flatMap((p) => section(p, true)),
    detailsLink(outDir, alsoInto),
    '',
    VERDICTS_END,
  ].join('\n');
  const files = [...written.flatMap((p) => p.files), ...writeVerdictBlocks(outDir, block, alsoInto, compact)];
  return { files, figures: written.flatMap((p) => p.figures), verdicts: decided, byScale: written.map((p) => ({ scale: p.scale, verdicts: p.verdicts })) };
}

/** A relative Markdown link from a file in `fromDir` to `file`. */
const link = (fromDir: string, file: string) => path.relative(fromDir, file).split(path.sep).join('/');

const detailsLink = (outDir: string, alsoInto: readonly string[]) =>
  `Each reason is the first that decided the claim; the measurements, all reasons and the method are in [docs/results](${link(path.dirname(alsoInto[0] ?? outDir), path.join(outDir, 'README.md'))}).`;

/** The verdict block into outDir's README.md (or verdicts.md), the compact one into each of `alsoInto`; the files written. */
function writeVerdictBlocks(outDir: string, block: string, alsoInto: readonly string[], compactBlock: string): string[] {
  const files: string[] = [];
  /** The file with its verdict block replaced, or null when it has no block. */
  const withBlock = (file: string, content: string): string | null => {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const begin = text.indexOf(VERDICTS_BEGIN);
    const end = text.indexOf(VERDICTS_END);
    return begin >= 0 && end > begin ? text.slice(0, begin) + content + text.slice(end + VERDICTS_END.length) : null;
  };
  // Checked before anything is written: a file without a block is a usage error, not a half-written result.
  const others = alsoInto.map((file) => {
    const text = withBlock(file, compactBlock);
    if (text === null)
      throw new L2oError(`${file} has no verdict block to replace.`, `Put the two lines ${VERDICTS_BEGIN} and ${VERDICTS_END} where the table goes.`);
    return [file, text] as const;
  });
  const readme = withBlock(path.join(outDir, 'README.md'), block);
  const own = readme !== null ? path.join(outDir, 'README.md') : path.join(outDir, 'verdicts.md');
  writeFileAtomic(own, readme ?? `# Verdicts on the paper's claims\n\n${block}\n`);
  files.push(own);
  for (const [file, text] of others) {
    writeFileAtomic(file, text);
    files.push(file);
  }
  return files;
}

/**
 * What the figure's runs took, as they measured it: their evaluations and their trainings (each
 * training once per run: a safeguarded variant evaluates the checkpoint of its plain model), summed
 * over the seeds, each job on one core.
 */
export function computeLine(runs: readonly LoadedRun[]): string {
  let evaluation = 0;
  let training = 0;
  let trainings = 0;
  for (const { summary } of runs) {
    const seen = new Set<string>();
    for (const o of summary.optimizers) {
      evaluation += o.evaluationSeconds ?? 0;
      const key = `${o.id}:${o.trainingSeconds}`;
      if (o.trainingSeconds === undefined || seen.has(key)) continue;
      seen.add(key);
      training += o.trainingSeconds;
      trainings++;
    }
  }
  return (
    `Measured time of its jobs, each on one core: ${formatDuration(training + evaluation)} (${trainings} training${trainings === 1 ? '' : 's'} ${formatDuration(training)}, ` +
    `evaluations ${formatDuration(evaluation)}; a training another figure shares counts here too).`
  );
}

/** One scale's figure pages (and the stability page) in `outDir`, with the verdicts they bear. */
async function writeScalePages(
  figures: readonly FigureRuns[],
  parameters: ParameterCounts | null,
  outDir: string,
  minSeeds: number,
): Promise<Omit<ScalePages, 'scale'>> {
  const files: string[] = [];
  const write = (name: string, content: string | Uint8Array) => {
    const file = path.join(outDir, name);
    writeFileAtomic(file, content);
    files.push(file);
  };
  const aggregates = figures.map((f) => aggregateSeeds(f.runs));
  const byName = Object.fromEntries(figures.map((f, i) => [f.name, aggregates[i]]));
  const verdicts = judgeClaims(byName, parameters, minSeeds);
  for (const [i, f] of figures.entries()) {
    const agg = aggregates[i]!;
    files.push(writeFigureData(outDir, { name: f.name, runs: [...f.runs], validation: f.validation ?? [] }));
    const svg = await seedMedianSvg(f.runs, seedPlotTitle(agg));
    write(`${f.name}.svg`, svg);
    write(`${f.name}.png`, svgToPng(svg));
    const validation = f.validation?.length
      ? await renderSvg(
          validationSpec(
            f.name,
            f.validation,
            agg.optimizers.map((o) => o.label),
          ),
        )
      : null;
    if (validation) {
      write(`${f.name}-validation.svg`, validation);
      write(`${f.name}-validation.png`, svgToPng(validation));
    }
    // The claims this figure bears on, with their verdicts (what the dashboard shows beside the figure).
    const claims = verdicts.filter((v) => v.figures.includes(f.name));
    write(
      `${f.name}.md`,
      [
        `# ${f.name} over ${agg.seeds.length} seed${agg.seeds.length === 1 ? '' : 's'} (${agg.scale} scale)`,
        '',
        `Generated by \`${f.regenerate}\` from the run store and the runs kept in [data/${f.name}.json](data/${f.name}.json): runs ${agg.runs.join(', ')}; seeds ${agg.seeds.join(', ')}; ` +
          `commit ${list(f.commits)}; engine ${list(f.engines)}.`,
        '',
        `Reproduce the runs: \`${f.reproduce}\`. ${computeLine(f.runs)}`,
        '',
        ...protocolLines(f.runs, f.deviations),
        ...(f.stopped?.length
          ? [
              `Trainings that stopped on a non-finite loss (their seeds have no run): ${f.stopped.map((t) => `${t.label} seed ${t.seed}: ${t.message.split(/(?<=\.)\s/)[0]!.replace(/\.$/, '')}`).join('; ')}`,
              '',
            ]
          : []),
        ...testDataLines(f.runs),
        agg.resolution !== undefined
          ? `F* and F(x_k) in float64 (the iterates are float32); the figure's resolution, the largest relative gap that rounding x* to float32 gives: ${formatGap(agg.resolution)}. No comparison is decided where both gaps are below it.`
          : 'F* and F(x_k) in float32 (runs made before float64 evaluation): gaps below ~1e-6 are rounding; the verdicts need the runs made again.',
        '',
        `![${f.name}](${f.name}.png)`,
        '',
        seedTableMarkdown(agg),
        '',
        ...(validation
          ? ['Validation loss during training (has it flattened within the budget?):', '', `![${f.name} validation](${f.name}-validation.png)`, '']
          : []),
        ...keptWeightsLines(
          f.runs,
          f.validation ?? [],
          agg.optimizers.map((o) => o.label),
        ),
        ...skippedLines(f.runs, f.validation ?? []),
        '## Verdict',
        '',
        ...(claims.length
          ? claims.map((v) => `- Claim ${v.claim} (${v.text}): **${v.verdict}**. ${v.why}.`)
          : ['- This figure bears on none of the five claims.']),
        '',
        ...pairedComparisonsMarkdown(agg),
      ].join('\n'),
    );
  }
  // The stability ablation's page, when both of its figures are among those written.
  const arms = [STABILITY_FIGURES.without, STABILITY_FIGURES.with].map((name) => figures.findIndex((f) => f.name === name));
  if (arms.every((i) => i >= 0)) {
    // Paired on the seeds both settings have a run for (a stopped training leaves its seed without one).
    const seedsOf = (i: number) => new Set(figures[i]!.runs.map((r) => r.summary.seed));
    const common = [...seedsOf(arms[0]!)].filter((seed) => seedsOf(arms[1]!).has(seed));
    const arm = (i: number): StabilityArm => {
      const runs = figures[i]!.runs.filter((r) => common.includes(r.summary.seed));
      return {
        agg: aggregates[i]!,
        validation: figures[i]!.validation ?? [],
        stopped: figures[i]!.stopped ?? [],
        ...(runs.length && runs.length < figures[i]!.runs.length ? { paired: aggregateSeeds(runs) } : {}),
      };
    };
    write('stability.md', stabilityMarkdown(arm(arms[0]!), arm(arms[1]!), 'clipping'));
  }
  const figuresLine = `Figures at the time (run store and kept data): ${figures.map((f, i) => `${f.name} (${aggregates[i]!.seeds.length} seed${aggregates[i]!.seeds.length === 1 ? '' : 's'}, ${aggregates[i]!.scale})`).join(', ') || 'none'}.`;
  return { files, figures: aggregates, verdicts, figuresLine };
}

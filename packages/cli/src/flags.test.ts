import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const commandsDir = path.join(here, 'commands');

/**
 * Flag names whose meaning is the command's own: --out is the file or folder each command writes;
 * --model, --problem, --dataset, --optimizer, --checkpoint, --iterations, --batch-size, --micro-batch
 * and --unroll are what a command trains, tests, times, solves or lists (`runs list --model` selects
 * runs, `train --iterations` is the training horizon, `run --iterations` the test's).
 */
const OWN_MEANING = new Set(['out', 'model', 'problem', 'dataset', 'optimizer', 'checkpoint', 'iterations', 'batch-size', 'micro-batch', 'unroll']);
/** Flags that select what a listing shows (stored runs by a field, the pretrained weights) rather than set it. */
const FILTERS = new Set(['runs list --scale', 'models --pretrained']);

interface FlagDef {
  summary?: string;
  description?: string;
}

/** Every command's id ('runs list') and its flags, base flags included, from the source files. */
async function commandFlags(): Promise<{ id: string; flags: Record<string, FlagDef> }[]> {
  const files = readdirSync(commandsDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  return Promise.all(
    files.map(async (file) => {
      const mod = (await import(path.join(commandsDir, file))) as { default: { flags?: Record<string, FlagDef>; baseFlags?: Record<string, FlagDef> } };
      const id = file
        .replace(/\.ts$/, '')
        .split(path.sep)
        .filter((part) => part !== 'index')
        .join(' ');
      return { id, flags: { ...mod.default.baseFlags, ...mod.default.flags } };
    }),
  );
}

describe('the commands’ flags', () => {
  it('give a flag name one summary wherever it is declared', async () => {
    const commands = await commandFlags();
    expect(commands.length).toBeGreaterThan(20);
    const byName = new Map<string, Map<string, string[]>>();
    for (const { id, flags } of commands) {
      for (const [name, flag] of Object.entries(flags)) {
        if (OWN_MEANING.has(name) || FILTERS.has(`${id} --${name}`)) continue;
        const text = flag.summary ?? flag.description ?? '';
        const summaries = byName.get(name) ?? new Map<string, string[]>();
        summaries.set(text, [...(summaries.get(text) ?? []), id]);
        byName.set(name, summaries);
      }
    }
    const differing = [...byName]
      .filter(([, summaries]) => summaries.size > 1)
      .map(([name, summaries]) => `--${name}: ${[...summaries].map(([text, ids]) => `${ids.join(', ')}: "${text}"`).join(' | ')}`);
    expect(differing).toEqual([]);
    // The shared ones are there (a rename would make the check above vacuous).
    for (const name of ['data-dir', 'cache-dir', 'download', 'runs-dir', 'store', 'scale', 'seed', 'seeds', 'workers', 'option', 'dry-run'])
      expect([...(byName.get(name)?.values() ?? [])].flat().length, name).toBeGreaterThan(1);
  });

  it('describe each topic in package.json, not by one of its commands', () => {
    const pkg = JSON.parse(readFileSync(path.join(here, '..', 'package.json'), 'utf8')) as { oclif: { topics?: Record<string, { description?: string }> } };
    const topics = readdirSync(commandsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(topics.length).toBeGreaterThan(3);
    for (const topic of topics) expect(pkg.oclif.topics?.[topic]?.description, topic).toMatch(/\w/);
  });
});

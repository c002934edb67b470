#!/usr/bin/env node
// Build step: copies every checkpoint pretrained.json names from where the campaign committed it
// into dist/checkpoints/<id>.json (what the published package holds), refusing one whose bytes
// are not those the index recorded (its SHA-256): a rerun campaign must be chosen again with
// scripts/from-campaign.mjs, not picked up silently.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageRoot, '../..');
const index = JSON.parse(readFileSync(path.join(packageRoot, 'pretrained.json'), 'utf8'));
const out = path.join(packageRoot, 'dist', 'checkpoints');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const entry of index.entries) {
  const bytes = readFileSync(path.join(repoRoot, entry.source));
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256) {
    console.error(
      `${entry.source} is not the checkpoint pretrained.json recorded for ${entry.id} (SHA-256 ${sha.slice(0, 12)}…, recorded ${entry.sha256.slice(0, 12)}…): choose it again with packages/pretrained/scripts/from-campaign.mjs.`,
    );
    process.exit(1);
  }
  writeFileSync(path.join(out, `${entry.id}.json`), bytes);
}
// The index as the plugin reads it, beside the files: names, provenance, no repository paths.
const shipped = index.entries.map((entry) => {
  const rest = { ...entry };
  delete rest.source;
  return { ...rest, file: `${rest.id}.json` };
});
writeFileSync(path.join(out, 'index.json'), `${JSON.stringify({ format: index.format, entries: shipped }, null, 2)}\n`);
console.log(`pretrained: ${index.entries.length} checkpoints in dist/checkpoints`);

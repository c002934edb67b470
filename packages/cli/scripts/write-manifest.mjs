#!/usr/bin/env node
// Build step: writes oclif.manifest.json (every command's id, flags, summary and examples) from the
// compiled commands in dist/. With it, oclif loads only the command that runs: without it, every
// invocation imports all 33 commands and what they import (BullMQ, the dashboard's server, the
// store), and `l2o --help` took 0.8 s instead of 0.2 s. Written after each `tsc`, so it is never
// older than dist/.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// A Plugin, not Config.load: that reads the root's existing manifest whatever its ignoreManifest
// says (@oclif/core 4.14, oclif/core#1533), so an edited command kept its old flags and examples in the manifest.
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true });
await plugin.load();
const manifest = plugin.manifest;
if (!manifest || Object.keys(manifest.commands).length === 0) {
  console.error(`No oclif commands found under ${path.join(root, 'dist/commands')}: build the package with tsc first.`);
  process.exit(1);
}
writeFileSync(path.join(root, 'oclif.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

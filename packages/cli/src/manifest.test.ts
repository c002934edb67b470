import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Config, Plugin, type Interfaces } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './test-utils/run-cli.js';

const root = path.join(REPO_ROOT, 'packages/cli');

describe('oclif.manifest.json (written by the build)', () => {
  it('is what the compiled commands say: every command, flag, summary and example', async () => {
    const written = JSON.parse(readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8')) as Interfaces.Manifest;
    // From the compiled commands: a Plugin, because Config.load reads the root's manifest whatever
    // its ignoreManifest says (@oclif/core 4.14, oclif/core#1533).
    const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true });
    await plugin.load();
    expect(plugin.hasManifest).toBe(false);
    const fromCommands: Interfaces.Manifest = plugin.manifest;
    expect(Object.keys(written.commands).sort()).toEqual(Object.keys(fromCommands.commands).sort());
    expect(written.commands).toEqual(JSON.parse(JSON.stringify(fromCommands.commands)));
  });

  it('is what oclif reads: commands are found from it, not by loading them', async () => {
    const config = await Config.load({ root });
    expect(config.plugins.get(config.pjson.name)!.hasManifest).toBe(true);
    expect(config.findCommand('campaign:status')?.flags.state).toBeDefined();
  });
});

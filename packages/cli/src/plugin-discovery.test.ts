import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './test-utils/run-cli.js';

// Run from a folder whose node_modules hold another copy of one of the CLI's own plugins (another
// checkout, a project with other versions): the CLI uses its own, and the folder adds plugins of
// other names.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-discovery-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A plugin package in `project`'s node_modules with the given entry module. */
function installPlugin(project: string, name: string, entry: string): void {
  const dir = path.join(project, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '9.9.9', type: 'module', l2o: { plugin: './plugin.js' } }));
  writeFileSync(path.join(dir, 'plugin.js'), entry);
}

describe('plugin discovery from the working directory', () => {
  it("prefers the CLI's own copy of a plugin to the folder's, and adds the folder's plugins of other names", () => {
    const project = path.join(temp, 'other-checkout');
    installPlugin(project, '@l2o/models', "throw new Error('the other checkout’s @l2o/models was loaded');\n");
    installPlugin(project, 'l2o-plugin-extra', 'export function register() {}\n');
    const r = runCli(['plugins', '--json'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/other checkout/);
    const plugins = JSON.parse(r.stdout) as { package: string; path: string }[];
    const named = (n: string) => plugins.find((p) => p.package === n);
    expect(named('@l2o/models')?.path).not.toContain(project);
    expect(named('l2o-plugin-extra')?.path).toBe(path.join(project, 'node_modules', 'l2o-plugin-extra'));
  });
});

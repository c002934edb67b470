// The import-cycle check (scripts/check-cycles.mjs) on tiny package trees: run as `npm run lint`
// runs it, so a cycle must fail with its path printed and an acyclic tree must pass.
// Run: node --test scripts/check-cycles.test.mjs
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./check-cycles.mjs', import.meta.url));
const roots = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A repository root with packages/<dir>/{package.json, src/…} from { 'a/src/x.ts': text, … }. */
function tree(files, packages = ['a']) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'check-cycles-'));
  roots.push(root);
  for (const dir of packages) {
    mkdirSync(path.join(root, 'packages', dir, 'src'), { recursive: true });
    const manifest = { name: `@t/${dir}`, exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './sub': { import: './dist/sub.js' } } };
    writeFileSync(path.join(root, 'packages', dir, 'package.json'), JSON.stringify(manifest));
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, 'packages', file)), { recursive: true });
    writeFileSync(path.join(root, 'packages', file), text);
  }
  return root;
}

function check(root) {
  const r = spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('a relative cycle fails with its path', () => {
  const { status, out } = check(
    tree({
      'a/src/index.ts': "export * from './x.js';\n",
      'a/src/x.ts': "import { y } from './deep/y.js';\nexport const x = () => y;\n",
      'a/src/deep/y.ts': "export { x as y } from '../x.js';\n",
    }),
  );
  assert.equal(status, 1, out);
  assert.match(out, /1 import cycle /);
  assert.ok(out.includes(`packages/a/src/deep/y.ts -> packages/a/src/x.ts -> packages/a/src/deep/y.ts`), out);
});

test('an acyclic tree passes; tests, comments and strings that mention imports are not edges', () => {
  const { status, out } = check(
    tree({
      'a/src/index.ts': "export * from './x.js';\nexport * from './y.js';\n",
      'a/src/x.ts': "import { y } from './y.js';\nexport const x = y;\n",
      'a/src/y.ts': "// import { x } from './x.js';\nexport const y = `import { x } from './x.js';`;\n",
      'a/src/y.test.ts': "import { x } from './x.js';\nimport { y } from './y.js';\n",
    }),
  );
  assert.equal(status, 0, out);
  assert.match(out, /no import cycle among 3 source files/);
});

test('a cycle through type-only and dynamic imports counts, the type-only step marked', () => {
  const { status, out } = check(
    tree({
      'a/src/x.ts': "import type { Y } from './y.js';\nexport type X = Y;\n",
      'a/src/y.ts': "export type Y = number;\nexport const load = () => import('./x.js');\n",
    }),
  );
  assert.equal(status, 1, out);
  assert.ok(out.includes('packages/a/src/x.ts -type-> packages/a/src/y.ts -> packages/a/src/x.ts'), out);
});

test('a cycle across packages, through their package names and subpath exports, counts', () => {
  const { status, out } = check(
    tree(
      {
        'a/src/index.ts': "import { b } from '@t/b/sub';\nexport const a = b;\n",
        'b/src/index.ts': "export * from './sub.js';\n",
        'b/src/sub.ts': "import { a } from '@t/a';\nexport const b = () => a;\n",
      },
      ['a', 'b'],
    ),
  );
  assert.equal(status, 1, out);
  assert.ok(out.includes('packages/a/src/index.ts -> packages/b/src/sub.ts -> packages/a/src/index.ts'), out);
});

test('every import inside a tangle of cycles is shown in some reported cycle', () => {
  // x ⇄ y and y ⇄ z: one component, two cycles needed to show all four imports.
  const { status, out } = check(
    tree({
      'a/src/x.ts': "import './y.js';\n",
      'a/src/y.ts': "import './x.js';\nimport './z.js';\n",
      'a/src/z.ts': "import './y.js';\n",
    }),
  );
  assert.equal(status, 1, out);
  assert.match(out, /2 import cycles/);
  for (const [from, to] of [
    ['x', 'y'],
    ['y', 'x'],
    ['y', 'z'],
    ['z', 'y'],
  ]) {
    assert.ok(out.includes(`packages/a/src/${from}.ts -> packages/a/src/${to}.ts`), `${from} -> ${to} missing:\n${out}`);
  }
});

test('an unknown argument is a usage error', () => {
  const r = spawnSync(process.execPath, [script, '--bogus'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown argument '--bogus'/);
});

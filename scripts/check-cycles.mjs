#!/usr/bin/env node
// Fails on an import cycle among the packages' sources (issue 33): a cycle makes module
// initialisation order depend on which file is loaded first, so a constant read at load time can
// be undefined in one entry point and not another.
//
// Edges: every relative import of packages/*/src/**/*.ts except tests (import … from, export … from,
// side-effect import, dynamic import('…'), import('…') types), and `@l2o/<pkg>[/sub]` mapped through
// the package's exports to its source (./dist/x.js → src/x.ts), so cycles across packages count too.
// Type-only imports count as well: they are free at run time, but a cycle of types is the same
// tangle one refactor away from a run-time one, and breaking it (types in a module that imports
// neither side) is cheap. They are marked `-type->` in the report.
//
// Each strongly connected component is reported as a few shortest cycles that together use every
// import inside it, so every import that must go (or move) appears at least once.
//
// Usage: node scripts/check-cycles.mjs [--root <dir with packages/>]
// Exit: 0 no cycle, 1 cycles (printed), 2 bad usage.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = path.dirname(fileURLToPath(import.meta.url));

function usage(message) {
  console.error(`check-cycles: ${message} (usage: node scripts/check-cycles.mjs [--root <dir with packages/>])`);
  process.exit(2);
}

function parseArgs(argv) {
  let root = path.resolve(here, '..');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root' && i + 1 < argv.length) root = path.resolve(argv[++i]);
    else usage(`unknown argument '${argv[i]}'`);
  }
  if (!existsSync(path.join(root, 'packages'))) usage(`no packages/ directory under ${root}`);
  return root;
}

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (/\.tsx?$/.test(entry.name) && !/\.(test|spec)\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Package name → (subpath '.' or './x' → source file), from each package.json's exports. */
function packageEntries(root) {
  const entries = new Map();
  for (const dir of readdirSync(path.join(root, 'packages'))) {
    const pkgDir = path.join(root, 'packages', dir);
    const manifest = path.join(pkgDir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    const exportsField = pkg.exports ?? { '.': pkg.main ?? './dist/index.js' };
    const subs = new Map();
    const normalised = typeof exportsField === 'string' ? { '.': exportsField } : exportsField;
    for (const [sub, target] of Object.entries(normalised)) {
      const file = typeof target === 'string' ? target : (target.import ?? target.default ?? target.types);
      if (typeof file !== 'string' || !file.startsWith('./dist/')) continue;
      const src = path.join(pkgDir, 'src', file.slice('./dist/'.length).replace(/\.d\.ts$|\.js$/, '.ts'));
      if (existsSync(src)) subs.set(sub, src);
    }
    if (pkg.name) entries.set(pkg.name, subs);
  }
  return entries;
}

function resolveSpecifier(from, spec, entries) {
  if (spec.startsWith('.')) {
    const base = path.resolve(path.dirname(from), spec);
    const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base, `${base}.ts`, path.join(base, 'index.ts')];
    return candidates.find((c) => /\.tsx?$/.test(c) && existsSync(c) && statSync(c).isFile());
  }
  for (const [name, subs] of entries) {
    if (spec === name) return subs.get('.');
    if (spec.startsWith(`${name}/`)) return subs.get(`./${spec.slice(name.length + 1)}`);
  }
  return undefined;
}

/** Module specifiers a file imports, each with whether that import is type-only. */
function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = [];
  const literal = (node) => (node && ts.isStringLiteralLike(node) ? node.text : undefined);
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const allTypeSpecifiers =
        clause !== undefined &&
        clause.name === undefined &&
        clause.namedBindings !== undefined &&
        ts.isNamedImports(clause.namedBindings) &&
        clause.namedBindings.elements.length > 0 &&
        clause.namedBindings.elements.every((e) => e.isTypeOnly);
      found.push({ spec: literal(node.moduleSpecifier), typeOnly: clause?.isTypeOnly === true || allTypeSpecifiers });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const allTypeSpecifiers =
        node.exportClause &&
        ts.isNamedExports(node.exportClause) &&
        node.exportClause.elements.length > 0 &&
        node.exportClause.elements.every((e) => e.isTypeOnly);
      found.push({ spec: literal(node.moduleSpecifier), typeOnly: node.isTypeOnly || allTypeSpecifiers === true });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      found.push({ spec: literal(node.moduleReference.expression), typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      found.push({ spec: literal(node.arguments[0]), typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      found.push({ spec: literal(node.argument.literal), typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((f) => f.spec !== undefined);
}

/** file → Map(target → typeOnly), typeOnly only when every import of target from file is. */
export function buildGraph(root) {
  const entries = packageEntries(root);
  const files = [];
  for (const dir of readdirSync(path.join(root, 'packages'))) {
    const src = path.join(root, 'packages', dir, 'src');
    if (existsSync(src) && statSync(src).isDirectory()) walk(src, files);
  }
  const graph = new Map();
  for (const file of files.sort()) {
    const edges = new Map();
    for (const { spec, typeOnly } of importsOf(file)) {
      const target = resolveSpecifier(file, spec, entries);
      if (target === undefined) continue;
      edges.set(target, (edges.get(target) ?? true) && typeOnly);
    }
    graph.set(file, edges);
  }
  // Package entries and relative targets outside the walked set (none expected) still get a node.
  for (const edges of [...graph.values()]) for (const t of edges.keys()) if (!graph.has(t)) graph.set(t, new Map());
  return graph;
}

/** Tarjan's strongly connected components with more than one file, or a file importing itself. */
function cyclicComponents(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const strong = (v) => {
    // Iterative, so a long import chain cannot overflow the call stack.
    const work = [[v, [...graph.get(v).keys()], 0]];
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [node, next] = frame;
      if (frame[2] < next.length) {
        const w = next[frame[2]++];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, [...graph.get(w).keys()], 0]);
        } else if (onStack.has(w)) low.set(node, Math.min(low.get(node), idx.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === idx.get(node)) {
        const component = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          component.push(w);
        } while (w !== node);
        if (component.length > 1 || graph.get(node).has(node)) out.push(component);
      }
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return out;
}

/** Shortest path from `from` to `to` inside `members` (breadth first), as a list of files. */
function shortestPath(graph, members, from, to) {
  const previous = new Map([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === to) break;
    for (const w of [...graph.get(v).keys()].sort()) {
      if (members.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  const pathOut = [];
  for (let v = to; v !== null; v = previous.get(v)) pathOut.unshift(v);
  return pathOut;
}

/** Cycles (each a list of files, first repeated last) that together use every edge of each component. */
export function findCycles(graph) {
  const cycles = [];
  for (const component of cyclicComponents(graph)) {
    const members = new Set(component);
    const uncovered = new Set();
    for (const v of [...members].sort()) for (const w of graph.get(v).keys()) if (members.has(w)) uncovered.add(`${v}\0${w}`);
    for (const edge of [...uncovered]) {
      if (!uncovered.has(edge)) continue;
      const [v, w] = edge.split('\0');
      // The edge v → w closes a cycle with the shortest way back from w to v.
      const cycle = [v, ...(v === w ? [v] : shortestPath(graph, members, w, v))];
      for (let i = 0; i + 1 < cycle.length; i++) uncovered.delete(`${cycle[i]}\0${cycle[i + 1]}`);
      cycles.push(cycle);
    }
  }
  return cycles;
}

export function formatCycle(graph, cycle, root) {
  let text = path.relative(root, cycle[0]);
  for (let i = 1; i < cycle.length; i++) text += `${graph.get(cycle[i - 1]).get(cycle[i]) ? ' -type-> ' : ' -> '}${path.relative(root, cycle[i])}`;
  return text;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = parseArgs(process.argv.slice(2));
  const graph = buildGraph(root);
  const cycles = findCycles(graph);
  if (cycles.length === 0) {
    console.log(`check-cycles: no import cycle among ${graph.size} source files`);
  } else {
    console.error(`check-cycles: ${cycles.length} import cycle${cycles.length === 1 ? '' : 's'} in packages/*/src:`);
    for (const cycle of cycles) console.error(`  ${formatCycle(graph, cycle, root)}`);
    console.error('Break each by moving what both sides need (types, constants) into a module that imports neither side.');
    process.exitCode = 1;
  }
}

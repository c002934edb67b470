import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './run-cli.js';

/** A Markdown page of the project's documentation: its path from the repository root, and its text. */
export interface DocPage {
  file: string;
  text: string;
}

/** README.md and every page under docs/: the pages whose commands and links the tests check. */
export function docPages(): DocPage[] {
  const docs = readdirSync(path.join(REPO_ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.join('docs', f));
  return ['README.md', ...docs].map((file) => ({ file, text: readFileSync(path.join(REPO_ROOT, file), 'utf8') }));
}

/** The lines of a page's ```sh blocks that run `l2o` (or `npx l2o`), anywhere on the line. */
export function l2oShellLines(page: DocPage): string[] {
  return [...page.text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')).filter((l) => /(^|\s|\|)(npx )?l2o\s/.test(l));
}

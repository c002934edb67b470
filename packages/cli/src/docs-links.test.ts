import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { docPages } from './test-utils/doc-pages.js';
import { REPO_ROOT } from './test-utils/run-cli.js';

// The README is a front page that links the docs/ pages, and they link back and to each other:
// every relative link (and image) of those pages must name a file that exists, and a #anchor a
// heading of the page it points to, as GitHub makes them.

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, …. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The text outside fenced blocks and inline code, where a Markdown link is a link. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

const pages = docPages();
const links = pages.flatMap((page) =>
  [...withoutCode(page.text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => [page.file, target] as const),
);

describe('the relative links of the README and docs/', () => {
  it('finds links from the README to docs/ and back', () => {
    expect(links.some(([file, target]) => file === 'README.md' && target.startsWith('docs/'))).toBe(true);
    expect(links.some(([file, target]) => file.startsWith('docs/') && target.startsWith('../README.md'))).toBe(true);
  });

  it.each(links)('%s → %s', (file, target) => {
    const [pathPart, anchor] = target.split('#') as [string, string | undefined];
    const resolved = pathPart === '' ? path.join(REPO_ROOT, file) : path.resolve(REPO_ROOT, path.dirname(file), decodeURI(pathPart));
    expect(existsSync(resolved), `${file} links to ${target}, which does not exist`).toBe(true);
    if (anchor === undefined || !statSync(resolved).isFile() || !resolved.endsWith('.md')) return;
    expect([...anchorsOf(readFileSync(resolved, 'utf8'))], `${file} links to ${target}: no such heading`).toContain(anchor);
  });
});

/**
 * The scratch app's source files come from README.md itself: every ```ts block whose first line is a
 * path comment such as `// src/app.module.ts` is written to that path, unchanged. So the test builds
 * what the README shows, and a README edit that breaks the Quick start or the "Testing your jobs" spec
 * breaks the test. A block that disappears (or is renamed) fails here too, against EXPECTED_FILES.
 */
import { readFileSync } from 'node:fs';

/** The files the Quick start and "Testing your jobs" sections must provide. */
export const EXPECTED_FILES = [
  'src/app.module.ts',
  'src/data-source.ts',
  'src/mailer.ts',
  'src/main.ts',
  'src/send-welcome-mail.job.ts',
  'src/signups.controller.spec.ts',
  'src/signups.controller.ts',
];

const BLOCK = /^```ts\n\/\/ ((?:src|test)\/[\w./-]+\.ts)\n([\s\S]*?)^```$/gm;

/** `{ path: content }` of every path-marked block in the README; content includes the path comment. */
export function readmeFiles(readmePath) {
  const markdown = readFileSync(readmePath, 'utf8');
  const files = {};
  for (const [, path, body] of markdown.matchAll(BLOCK)) {
    if (files[path]) throw new Error(`README.md has two blocks for ${path}`);
    files[path] = `// ${path}\n${body}`;
  }
  const found = Object.keys(files).sort();
  if (found.join() !== EXPECTED_FILES.join()) {
    throw new Error(
      `README.md's path-marked ts blocks are ${JSON.stringify(found)}; the consumer test expects ` +
        `${JSON.stringify(EXPECTED_FILES)} (update EXPECTED_FILES in ${import.meta.url} with the README).`,
    );
  }
  return files;
}

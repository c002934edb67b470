import { readFileSync } from 'node:fs';
import { L2oError } from '../errors.js';

/** Reads and parses a JSON file; a missing, unreadable or truncated file is one line naming it. */
export function readJsonFile<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new L2oError(
      `${file} cannot be read (${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : (code ?? (e as Error).message)}).`,
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new L2oError(`${file} is not valid JSON (${(e as Error).message.split('\n')[0]}): truncated or edited?`);
  }
}

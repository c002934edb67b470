/** Where the platform's human-readable lines go; the CLI decides (stderr, quiet, JSON mode). */
export interface Logger {
  info: (line: string) => void;
  warn: (line: string) => void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {} };

export const stderrLogger: Logger = {
  info: (line) => process.stderr.write(`${line}\n`),
  warn: (line) => process.stderr.write(`warning: ${line}\n`),
};

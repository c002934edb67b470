import { Args, Flags } from '@oclif/core';
import { L2oError, type Dataset, type DatasetContext } from '@l2o/core';
import type { RawVerification, VerifiableDataset } from '@l2o/datasets';
import { L2oCommand } from '../../base-command.js';
import { cacheDirFlag, dataDirFlag } from '../../flags.js';

/** Datasets backed by raw files (those of @l2o/datasets) can check them; others cannot. */
function verifier(dataset: Dataset): ((ctx: DatasetContext, options: { checksums: boolean }) => Promise<RawVerification>) | undefined {
  const verify = (dataset as Partial<VerifiableDataset>).verify;
  return typeof verify === 'function' ? verify.bind(dataset) : undefined;
}

export default class DatasetsInfo extends L2oCommand {
  static override summary = 'Show where a dataset comes from, its checksums, and where its files are.';
  static override description =
    'Names the raw files that are missing. With --verify, also checks every file against its official SHA-256 and exits with code 1 when one is missing or differs; without it the checksums are not computed.';
  static override examples = [
    '<%= config.bin %> datasets info bsds500',
    '<%= config.bin %> datasets info bsds500 --verify',
    '<%= config.bin %> datasets info spambase --json',
  ];
  static override args = { id: Args.string({ required: true, description: 'Dataset id.' }) };
  static override flags = {
    ...dataDirFlag,
    ...cacheDirFlag,
    verify: Flags.boolean({ summary: 'Check every raw file against its official SHA-256 (exit code 1 on a missing or different file).' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(DatasetsInfo);
    const platform = await this.boot(flags, { dataDir: flags['data-dir'], ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}) });
    const dataset = platform.registry.get('dataset', args.id).create({});
    const info = await dataset.describe(platform.datasetContext);
    const verify = info.needsFiles ? verifier(dataset) : undefined;
    // Presence is cheap and always checked (to name missing files); checksums only with --verify.
    const check = verify ? await verify(platform.datasetContext, { checksums: flags.verify }) : undefined;
    const verified = flags.verify && check ? check.ok : null;
    const failed = flags.verify && check && !check.ok ? check : undefined;

    const error = failed
      ? new L2oError(
          `${info.id}: verification failed: ${failed.summary}.`,
          `${failed.mismatched.length ? 'Replace the files with the official ones' : 'Restore the missing files'}, or run \`l2o datasets fetch ${info.id}\` for a verified download into the cache.`,
        )
      : undefined;

    if (this.jsonMode) {
      // One JSON document on stdout, with the error in it; the error line still goes to stderr.
      const document = {
        ...info,
        verified,
        ...(check
          ? {
              verification: {
                checksums: check.checksums,
                location: check.location,
                files: check.files,
                missing: check.missing,
                mismatched: check.mismatched,
                problems: check.problems,
              },
            }
          : {}),
        ...(error ? { error: { message: error.message, hint: error.hint, exitCode: error.exitCode } } : {}),
      };
      if (error) {
        process.stderr.write(`Error: ${error.oneLine()}\n`);
        process.exitCode = error.exitCode;
      }
      return document;
    }
    const checksumLine = !info.needsFiles
      ? 'checksums: none (generated data)'
      : !flags.verify
        ? 'checksums: not verified (use --verify)'
        : !check
          ? 'checksums: not verified (this dataset cannot check its files)'
          : check.ok
            ? check.summary
            : `verified: no, ${check.summary}`;
    const lines = [
      `${info.id}: ${info.description}`,
      `serves: ${info.serves.join(', ')}`,
      `files: ${!info.needsFiles ? 'none (generated)' : info.present ? `${info.location} (${((info.sizeBytes ?? 0) / 2 ** 20).toFixed(1)} MiB)` : `missing${check?.missing.length ? `, ${check.problems[0]}` : ''}`}`,
      ...(info.sources ? [`source: ${info.sources.join(', ')}`] : []),
      ...(info.citation ? [`cite: ${info.citation}`] : []),
      ...(info.checksums ? [`checksums (SHA-256): ${Object.keys(info.checksums).length} file${Object.keys(info.checksums).length === 1 ? '' : 's'}`] : []),
      ...(info.checksums && Object.keys(info.checksums).length <= 3 ? Object.entries(info.checksums).map(([f, s]) => `  ${s}  ${f}`) : []),
      checksumLine,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (error) throw error;
  }
}

import os from 'node:os';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { isL2oError } from '@l2o/core';
import { campaignStatus, estimateCampaign, evaluationsUnderWay, loadCampaign, planCampaign, type CampaignEstimate } from '@l2o/sweep';
import { L2oCommand } from '../../base-command.js';
import { campaignArgs, campaignEstimateText, campaignFlags, campaignSummary, stateDirOf } from '../../campaign-flags.js';
import { workersFlag } from '../../flags.js';

export default class CampaignStatus extends L2oCommand {
  static override summary = "What a campaign's state folder says is done and what remains, and the time left on this machine.";
  static override examples = [
    '<%= config.bin %> campaign status experiments/campaigns/paper.yaml --workers 2',
    '<%= config.bin %> campaign status experiments/campaigns/paper.yaml --no-estimate',
  ];
  static override args = campaignArgs;
  static override flags = {
    ...campaignFlags,
    ...workersFlag({ description: 'Job processes the estimate assumes (default: the number of cores).' }),
    estimate: Flags.boolean({
      default: true,
      allowNo: true,
      summary:
        "Estimate the time left: each job at the time the campaign measured for it or its like (a training's pace, the median of its optimizer's finished jobs), the rest calibrated on this machine as `l2o sweep --dry-run` does.",
    }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(CampaignStatus);
    const campaign = loadCampaign(path.resolve(args.campaign));
    const stateDir = stateDirOf(campaign, flags.state);
    const platform = await this.boot(
      { ...flags, store: 'off' },
      {
        runsDir: path.resolve(flags['runs-dir']),
        dataDir: flags['data-dir'],
        allowDownload: flags.download,
        ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
      },
    );
    const planned = planCampaign(platform, campaign);
    const status = campaignStatus(campaign, planned, stateDir);
    const workers = flags.workers ?? os.availableParallelism();
    let estimate: CampaignEstimate | undefined;
    if (flags.estimate) {
      try {
        estimate = await estimateCampaign(platform, campaign, planned, {
          stateDir,
          workers,
          onCalibrate: (w) => this.note(`calibrating ${w}…`),
          signal: this.interrupt.signal,
        });
      } catch (e) {
        // The status stands without the estimate (e.g. a dataset the calibration needs is not here).
        if (!isL2oError(e)) throw e;
        this.note(`no estimate of the time left: ${e.message}`);
      }
    }
    const evaluations = evaluationsUnderWay(status, platform.datasetContext.cacheDir);
    if (this.jsonMode) return { state: stateDir, plan: status, evaluationsUnderWay: Object.fromEntries(evaluations), ...(estimate ? { estimate } : {}) };
    process.stdout.write(`${campaignSummary(status, evaluations)}\n`);
    if (estimate) process.stdout.write(`${campaignEstimateText(estimate)}\n`);
  }
}

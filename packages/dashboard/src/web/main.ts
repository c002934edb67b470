// The dashboard's page: a hash router over the read-only API (router.ts, api.ts), one module per
// page (pages/), vega-embed for the plots, and the live page that runs a stored learned optimizer
// with tfjs in this tab.
import { comparePage } from './pages/compare.js';
import { figurePage } from './pages/figure.js';
import { figuresPage } from './pages/figures.js';
import { livePage } from './pages/live.js';
import { runPage } from './pages/run.js';
import { runsPage } from './pages/runs.js';
import { sweepPage } from './pages/sweep.js';
import { sweepsPage } from './pages/sweeps.js';
import { startRouter } from './router.js';

startRouter(
  {
    runs: (_, params) => runsPage(params),
    'runs/:': (id) => runPage(id),
    'compare/:': (ids) => comparePage(ids.split(',')),
    figures: () => figuresPage(),
    'figures/:': (name, params) => figurePage(name, params),
    sweeps: () => sweepsPage(),
    'sweeps/:': (id) => sweepPage(id),
    live: (_, params) => livePage(params),
  },
  'runs',
);

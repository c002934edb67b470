export { dashboardApp, startDashboard, runQuery, type Dashboard, type DashboardOptions } from './server/server.js';
export { runLive, liveRegistry, drawLiveInstance, type LiveCheckpoint, type LiveCurve, type LiveRequest, type LiveResult } from './live/live-run.js';

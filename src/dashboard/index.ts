/**
 * skipgrad.dashboard: a live page over run folders (training curves, gradient flow, evaluation).
 *
 * @module
 */

export { startDashboard, isTraversal, type Dashboard, type DashboardOptions } from './server.js';
export { RunFolder, RUN_FILES, readMetrics, readGradflow, type RunData, type GradflowData, type MetricPoint } from './run_data.js';

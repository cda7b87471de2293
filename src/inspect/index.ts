/**
 * skipgrad.inspect: gradient-flow reports through residual blocks and their shortcuts.
 *
 * @module
 */

export {
  inspectGradients, l2norm, type BlockGradients, type GradientReport, type InspectOptions, type ParameterGradients,
} from './gradients.js';
export {
  runGradflow, gradflowTable, gradflowSvg, gradflowRows, gradflowParamRows, writeGradflowFiles, GRADFLOW_CSV_COLUMNS,
  GRADFLOW_PARAMS_CSV_COLUMNS,
  type GradflowOptions, type GradflowResult, type GradflowRun,
} from './gradflow.js';
export {
  GradflowRecorder, gradflowRecordLines, GRADFLOW_TRAIN_CSV_COLUMNS,
  type GradflowRecorderOptions, type GradflowRecord,
} from './recorder.js';
export { gradflowTrainingSvg } from './recorder_plot.js';

/**
 * skipgrad.plot: the dependency-free SVG (and PNG) pictures of a run.
 *
 * @module
 */

export { lineChart, chartPanel, svgDocument, niceTicks, decadeTicks, downsample, extent, type Series, type ChartOptions } from './svg.js';
export { trainingCurvesSvg, curvesTitleFromConfig, type CurveRow, type CurvesOptions } from './curves.js';
export { gradflowChartSvg, stageBoundaries, type GradflowChartBlock } from './gradflow.js';
export { confusionSvg, misclassifiedSvg, type MisclassifiedImage } from './confusion.js';
export { encodePng, crc32 } from './png.js';
export type { Frame } from './svg.js';
export type { GradflowChartOptions } from './gradflow.js';

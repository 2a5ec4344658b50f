// What the CLI uses of regression gating: find the baseline, compare, record the run.
export { evaluateRegression, type RegressionReport, type ComparedFigure, type NotComparedFigure } from './evaluate.ts';
export { appendHistory, findBaseline, loadBaselineRun, loadRunResult, HISTORY_FILE } from './history.ts';
export { parseRegressionPolicy, type RegressionPolicy } from './policy.ts';
export { buildRegressionTestcases } from './testcases.ts';

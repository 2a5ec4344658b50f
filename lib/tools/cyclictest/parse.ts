// One import for suites: cyclictest's two output parsers and the step that joins them.
export { parseCyclictestJson, repairNonFiniteNumbers, findHistogramArg } from './parse-json.ts';
export type { CyclictestJsonReport, CyclictestJsonThread, CyclictestSysinfo } from './parse-json.ts';
export { parseCyclictestHistogramText } from './parse-text.ts';
export type { CyclictestHistogramText, CyclictestOverflowCycles } from './parse-text.ts';
export { combineCyclictest, parseCyclictestRun } from './combine.ts';
export type { CombineCyclictestInput, CyclictestResult, CyclictestThreadResult } from './combine.ts';

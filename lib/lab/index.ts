// The lab pod's public surface, used by `kvmfornfv-test lab up|down|status` and by
// runs given no --pod.

export { labUp, LAB_UP_STEPS, type LabUpOptions, type LabUpStep } from './up.ts';
export { labDown, type LabDownReport } from './down.ts';
export { labStatus, type LabOptions, type LabStatus, type LabNodeStatus } from './status.ts';
export type { LabState, LabNodeState, LabLinkState } from './state.ts';
export { LAB_PACKAGES } from './packages.ts';

// A command that runs a measurement of N seconds needs a timeout that grows with N, so that
// a one-hour cyclictest is not killed at 60 s and a hung 10 s probe is not waited on for an hour.

export interface TimeoutScaling {
  /** Never less than this many seconds. */
  floorS?: number;
  /** Multiplier on the measurement length, for slow nodes and start-up. */
  factor?: number;
  /** Seconds added on top, for setup and the tool's summary. */
  slackS?: number;
}

// Milliseconds to allow a command whose measurement lasts `measurementSeconds`.
export function timeoutFor(measurementSeconds: number, scaling: TimeoutScaling = {}): number {
  const { floorS = 30, factor = 1.5, slackS = 60 } = scaling;
  for (const [name, value] of Object.entries({ measurementSeconds, floorS, factor, slackS })) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`timeoutFor: ${name} must be a finite number >= 0, got ${value}`);
  }
  return Math.ceil(Math.max(floorS, measurementSeconds * factor + slackS) * 1000);
}

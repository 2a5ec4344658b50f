// Ethernet line-rate arithmetic. Every rate the suite asks a generator for, and every ceiling a
// search climbs to, goes through these few functions so that "100 % of 10G at 64 bytes" means
// 14 880 952 pps everywhere, and IMIX means the same mix for TRex, pktgen and kfn-softgen.

/** A frame size in bytes (Ethernet frame including FCS), or the simple IMIX mix. */
export type FrameSize = number | 'imix';

/** Preamble (7) + start-of-frame delimiter (1) + minimum inter-frame gap (12) bytes on the wire. */
export const ETHERNET_L1_OVERHEAD_BYTES = 20;

/** Bytes of FCS included in a frame size but added by the NIC, not by the generator. */
export const ETHERNET_FCS_BYTES = 4;

export const MIN_FRAME_SIZE = 64;
/** Jumbo frames up to 9216 bytes are accepted here; each driver narrows this to what it can send. */
export const MAX_FRAME_SIZE = 9216;

/**
 * Simple IMIX by frame count, 7 x 64 : 4 x 570 : 1 x 1518, the mix kfn-softgen sends
 * (lib/agents/kfn-softgen) and the one NFVbench and TRex's imix profile use.
 */
export const IMIX_MIX: ReadonlyArray<{ size: number; weight: number }> = [
  { size: 64, weight: 7 },
  { size: 570, weight: 4 },
  { size: 1518, weight: 1 },
];

// Why a frame size is unusable, or undefined when it is fine; shared by config and CLI parsing.
export function describeBadFrameSize(value: unknown): string | undefined {
  if (value === 'imix') return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return `expected an integer number of bytes or "imix", found ${JSON.stringify(value)}`;
  }
  if (value < MIN_FRAME_SIZE || value > MAX_FRAME_SIZE) {
    return `expected ${MIN_FRAME_SIZE} to ${MAX_FRAME_SIZE} bytes (Ethernet frame including FCS), found ${value}`;
  }
  return undefined;
}

// The mean frame size of a stream: the size itself, or the count-weighted IMIX mean (353.83 bytes).
export function averageFrameSize(frameSize: FrameSize): number {
  if (frameSize !== 'imix') return frameSize;
  let bytes = 0;
  let frames = 0;
  for (const { size, weight } of IMIX_MIX) {
    bytes += size * weight;
    frames += weight;
  }
  return bytes / frames;
}

// Frames per second that fill a link: each frame occupies its size plus 20 bytes of L1 overhead.
export function lineRatePps(lineRateBps: number, frameSize: FrameSize): number {
  if (!Number.isFinite(lineRateBps) || lineRateBps <= 0) {
    throw new RangeError(`lineRatePps: line rate must be a positive number of bit/s, got ${lineRateBps}`);
  }
  const bad = describeBadFrameSize(frameSize);
  if (bad) throw new RangeError(`lineRatePps: ${bad}`);
  return lineRateBps / ((averageFrameSize(frameSize) + ETHERNET_L1_OVERHEAD_BYTES) * 8);
}

// L1 bit rate of a frame rate, for reports that show Gbit/s next to pps.
export function l1BitsPerSecond(pps: number, frameSize: FrameSize): number {
  return pps * (averageFrameSize(frameSize) + ETHERNET_L1_OVERHEAD_BYTES) * 8;
}

// A frame size as it appears in names and reports: `64`, `1518`, `imix`.
export function formatFrameSize(frameSize: FrameSize): string {
  return frameSize === 'imix' ? 'imix' : String(frameSize);
}

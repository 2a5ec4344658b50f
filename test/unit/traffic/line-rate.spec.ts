import { expect } from 'chai';
import {
  averageFrameSize,
  describeBadFrameSize,
  formatFrameSize,
  l1BitsPerSecond,
  lineRatePps,
} from '../../../lib/traffic/line-rate.ts';

describe('traffic/line-rate', () => {
  it('fills 10G with 14 880 952 frames of 64 bytes per second', () => {
    const pps = lineRatePps(10e9, 64);
    expect(Math.floor(pps)).to.equal(14_880_952);
    expect(pps).to.be.closeTo(10e9 / 672, 1e-6);
  });

  it('counts the 20 bytes of preamble, SFD and gap for every size', () => {
    expect(Math.floor(lineRatePps(10e9, 1518))).to.equal(812_743);
    expect(Math.floor(lineRatePps(1e9, 64))).to.equal(1_488_095);
    expect(Math.floor(lineRatePps(25e9, 128))).to.equal(21_114_864);
  });

  it('averages IMIX 7 x 64 : 4 x 570 : 1 x 1518 by frame count', () => {
    expect(averageFrameSize('imix')).to.be.closeTo(4246 / 12, 1e-9);
    expect(Math.floor(lineRatePps(10e9, 'imix'))).to.equal(3_343_736);
    expect(averageFrameSize(256)).to.equal(256);
  });

  it('turns a frame rate back into the L1 bit rate', () => {
    expect(l1BitsPerSecond(lineRatePps(10e9, 64), 64)).to.be.closeTo(10e9, 1e-3);
    expect(l1BitsPerSecond(1000, 1518)).to.equal(1000 * 1538 * 8);
  });

  it('refuses sizes no Ethernet frame has', () => {
    expect(describeBadFrameSize(64)).to.equal(undefined);
    expect(describeBadFrameSize('imix')).to.equal(undefined);
    expect(describeBadFrameSize(63)).to.match(/64 to 9216 bytes.*found 63/);
    expect(describeBadFrameSize(9217)).to.match(/found 9217/);
    expect(describeBadFrameSize(64.5)).to.match(/integer/);
    expect(describeBadFrameSize('IMIX')).to.match(/"IMIX"/);
    expect(() => lineRatePps(10e9, 20)).to.throw(RangeError, /found 20/);
    expect(() => lineRatePps(0, 64)).to.throw(RangeError, /line rate/);
  });

  it('names sizes as reports show them', () => {
    expect(formatFrameSize(64)).to.equal('64');
    expect(formatFrameSize('imix')).to.equal('imix');
  });
});

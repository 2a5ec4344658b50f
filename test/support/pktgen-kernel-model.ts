// A model of what kernel pktgen does with the commands the harness writes, so the command
// builder is tested against pktgen's behaviour rather than against its own formulas. Each part
// follows net/core/pktgen.c of Linux 6.12.118 (Debian linux-source-6.12 6.12.118-1~deb12u1);
// the same code is in mainline v5.4-rc1 (torvalds/linux 0dd66f13f53ee81ad72388f45a637f2f59357843),
// where only the random helpers differ (prandom_u32() % n instead of get_random_u32_*):
//
// - writeDevice(): pktgen_if_write() (lines 955-1837) for the commands the harness uses: the
//   name is read by strn_len() up to 15 characters, separators skipped by count_trail_chars(),
//   numbers read by num_arg(.., 10, ..) (line 797): at most 10 digits, the rest ignored;
// - writeThread(): pktgen_thread_write() (line 1882) for add_device (lines 1933-1953);
// - start(): pktgen_setup_inject() (lines 2160-2286, IPv4 branch) as pktgen_run() calls it;
// - sendFrames(): mod_cur_headers() (lines 2426-2626), sequential mode, IPv4, no flows
//   (cflows 0), as fill_packet_ipv4() calls it before building every frame; the tuple each
//   frame carries is (cur_saddr, cur_daddr, cur_udp_src, cur_udp_dst).
// Random modes, IPv6, MAC counts, MPLS and VLANs are not modelled: the harness sets none of them.

export interface ModelDevice {
  count: number;
  cloneSkb: number;
  minPktSize: number;
  delayNs: number;
  imix: Array<{ size: number; weight: number }>;
  dstMin: string;
  dstMax: string;
  srcMin: string;
  srcMax: string;
  dstMac: string;
  srcMac: string;
  udpSrcMin: number;
  udpSrcMax: number;
  udpDstMin: number;
  udpDstMax: number;
  cur: { saddr: number; daddr: number; udpSrc: number; udpDst: number };
  range: { saddrMin: number; saddrMax: number; daddrMin: number; daddrMax: number };
  /** pkt_dev->result: the text after "Result: ". */
  result: string;
}

/** What pktgen_add_device() (lines 3786-3830) starts a device with. */
export function newModelDevice(): ModelDevice {
  return {
    count: 1000, cloneSkb: 0, minPktSize: 0, delayNs: 0, imix: [],
    dstMin: '', dstMax: '', srcMin: '', srcMax: '', dstMac: '00:00:00:00:00:00', srcMac: '00:00:00:00:00:00',
    udpSrcMin: 9, udpSrcMax: 9, udpDstMin: 9, udpDstMax: 9,
    cur: { saddr: 0, daddr: 0, udpSrc: 0, udpDst: 0 },
    range: { saddrMin: 0, saddrMax: 0, daddrMin: 0, daddrMax: 0 },
    result: '',
  };
}

const TRAIL = new Set(['"', '\n', '\r', '\t', ' ', '=']);
const NAME_END = new Set(['"', '\n', '\r', '\t', ' ']);

function skipTrail(buf: string, i: number): number {
  while (i < buf.length && TRAIL.has(buf[i]!)) i++;
  return i;
}

function strnLen(buf: string, i: number, max: number): number {
  let n = 0;
  while (n < max && i + n < buf.length && !NAME_END.has(buf[i + n]!)) n++;
  return n;
}

/** num_arg(): up to maxlen decimal digits; returns [digits read, value]. */
export function numArg(buf: string, i: number, maxlen = 10): [number, bigint] {
  let n = 0;
  let v = 0n;
  while (n < maxlen && i + n < buf.length && /[0-9]/.test(buf[i + n]!)) v = v * 10n + BigInt(buf[i + n++]!);
  return [n, v];
}

/** in_aton() then ntohl(): a dotted quad as a host-order number, "" as 0. */
function inAton(s: string): number {
  if (s === '') return 0;
  return s.split('.').reduce((acc, part) => acc * 256 + (Number(part) & 0xff), 0);
}

const u16 = (v: bigint): number => Number(v & 0xffffn);

/** One write of `line` to the device file; false where pktgen returns an error from write(). */
export function writeDevice(d: ModelDevice, line: string): boolean {
  let i = skipTrail(line, 0);
  const nameLen = strnLen(line, i, 15);
  const name = line.slice(i, i + nameLen);
  i = skipTrail(line, i + nameLen);
  const num = (): bigint => numArg(line, i)[1];
  const word = (max: number): string => line.slice(i, i + strnLen(line, i, max));
  switch (name) {
    case 'count':
      d.count = Number(num());
      d.result = `OK: count=${d.count}`;
      return true;
    case 'clone_skb':
      d.cloneSkb = Number(num());
      d.result = `OK: clone_skb=${d.cloneSkb}`;
      return true;
    case 'pkt_size': {
      const v = Math.max(Number(num()), 14 + 20 + 8);
      d.minPktSize = v;
      d.result = `OK: pkt_size=${v}`;
      return true;
    }
    case 'imix_weights': {
      // get_imix_entries() (lines 844-893): "size,weight" pairs separated by one space; no result is written.
      if (d.cloneSkb > 0) return false;
      d.imix = [];
      for (const pair of line.slice(i).replace(/\n$/, '').split(' ')) {
        const m = /^(\d+),(\d+)$/.exec(pair);
        if (!m || Number(m[2]) <= 0) return false;
        d.imix.push({ size: Math.max(Number(m[1]), 14 + 20 + 8), weight: Number(m[2]) });
      }
      return true;
    }
    case 'delay': {
      const v = num();
      d.delayNs = v === 0x7fffffffn ? Number.MAX_SAFE_INTEGER : Number(v);
      d.result = `OK: delay=${d.delayNs}`;
      return true;
    }
    case 'ratep': {
      const v = num();
      if (v === 0n) return true; // returns len: neither the delay nor the result changes
      d.delayNs = Math.floor(1e9 / Number(v));
      d.result = `OK: rate=${v}`;
      return true;
    }
    case 'dst':
    case 'dst_min':
    case 'dst_max':
    case 'src_min':
    case 'src_max': {
      // Each setter also moves the current address to the new value (lines 1386-1553); `dst` is dst_min.
      const key = ({ dst: 'dstMin', dst_min: 'dstMin', dst_max: 'dstMax', src_min: 'srcMin', src_max: 'srcMax' } as const)[name];
      d[key] = word(31);
      d.cur[key.startsWith('dst') ? 'daddr' : 'saddr'] = inAton(d[key]);
      d.result = `OK: ${name === 'dst' ? 'dst_min' : name}=${d[key]}`;
      return true;
    }
    case 'dst_mac':
    case 'src_mac': {
      const mac = word(31).toLowerCase();
      if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) return false;
      if (name === 'dst_mac') d.dstMac = mac;
      else d.srcMac = mac;
      d.result = `OK: ${name === 'dst_mac' ? 'dstmac' : 'srcmac'} ${mac}`;
      return true;
    }
    case 'udp_src_min':
    case 'udp_src_max':
    case 'udp_dst_min':
    case 'udp_dst_max': {
      // Each setter also moves the current port to the new value (lines 1145-1195).
      const v = u16(num());
      const key = ({ udp_src_min: 'udpSrcMin', udp_src_max: 'udpSrcMax', udp_dst_min: 'udpDstMin', udp_dst_max: 'udpDstMax' } as const)[name];
      if (v !== d[key]) {
        d[key] = v;
        if (name.startsWith('udp_src')) d.cur.udpSrc = v;
        else d.cur.udpDst = v;
      }
      d.result = `OK: ${name}=${d[key]}`;
      return true;
    }
    default:
      d.result = `No such parameter "${name}"`;
      return false;
  }
}

/** pktgen_thread_write() for add_device: the thread file's result. */
export function writeThread(line: string): { ok: boolean; result: string; device: string } {
  const m = /^add_device ([^\s"]{1,31})\n?$/.exec(line);
  return m ? { ok: true, result: `OK: add_device=${m[1]}`, device: m[1]! } : { ok: false, result: 'NA', device: '' };
}

/** The imix_weights line pktgen_if_show() (lines 577-584) prints, without its leading spaces. */
export function showImix(d: ModelDevice): string | null {
  return d.imix.length > 0 ? `imix_weights: ${d.imix.map((e) => `${e.size},${e.weight} `).join('')}` : null;
}

/** pktgen_setup_inject(), IPv4 without a source address lookup: the ranges and current values at start. */
export function start(d: ModelDevice): void {
  d.range = { saddrMin: inAton(d.srcMin), saddrMax: inAton(d.srcMax), daddrMin: inAton(d.dstMin), daddrMax: inAton(d.dstMax) };
  d.cur = { saddr: d.range.saddrMin, daddr: d.range.daddrMin, udpSrc: d.udpSrcMin, udpDst: d.udpDstMin };
}

/** mod_cur_headers() in sequential mode, once per frame, then the frame's (saddr, daddr, sport, dport). */
export function sendFrames(d: ModelDevice, frames: number): string[] {
  const sent: string[] = [];
  for (let n = 0; n < frames; n++) {
    if (d.udpSrcMin < d.udpSrcMax) {
      d.cur.udpSrc = (d.cur.udpSrc + 1) & 0xffff;
      if (d.cur.udpSrc >= d.udpSrcMax) d.cur.udpSrc = d.udpSrcMin;
    }
    if (d.udpDstMin < d.udpDstMax) {
      d.cur.udpDst = (d.cur.udpDst + 1) & 0xffff;
      if (d.cur.udpDst >= d.udpDstMax) d.cur.udpDst = d.udpDstMin;
    }
    const { saddrMin, saddrMax, daddrMin, daddrMax } = d.range;
    // The addresses wrap only past max ("t > imx"): in sequential mode their max is inclusive.
    if (saddrMin < saddrMax) d.cur.saddr = d.cur.saddr + 1 > saddrMax ? saddrMin : d.cur.saddr + 1;
    if (daddrMin < daddrMax) d.cur.daddr = d.cur.daddr + 1 > daddrMax ? daddrMin : d.cur.daddr + 1;
    sent.push(`${d.cur.saddr}|${d.cur.daddr}|${d.cur.udpSrc}|${d.cur.udpDst}`);
  }
  return sent;
}

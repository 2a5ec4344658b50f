// A cpio archive in the "newc" format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst): each entry is a 110-byte
// ASCII header, the NUL-terminated name and the data, each padded to 4 bytes; TRAILER!!! ends it.
export interface NewcEntry {
  name: string;
  mode: number;
  data?: Buffer;
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export function buildNewcArchive(entries: readonly NewcEntry[]): Buffer {
  const parts: Buffer[] = [];
  const all = [...entries, { name: 'TRAILER!!!', mode: 0 }];
  all.forEach((e, i) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const fields = [i + 1, e.mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'ascii');
    parts.push(header, name, Buffer.alloc(pad4(header.length + name.length)), data, Buffer.alloc(pad4(data.length)));
  });
  return Buffer.concat(parts);
}

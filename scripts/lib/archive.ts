// Release archives written byte by byte, so that they are identical on Linux, macOS and Windows
// runners (no dependence on GNU vs BSD tar) and contain only what krew can unpack: krew's tar
// extractor accepts regular files and directories only (a symlink fails the install).
import zlib from 'node:zlib';

/** One file of an archive. */
export type ArchiveEntry = {name: string; data: Buffer; mode: number};

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, `0`)}\0`;
}

/** A POSIX ustar archive, gzip-compressed (`level` 9 by default). `mtime` is seconds since the epoch (reproducible builds pass the commit time). */
export function tarGz(entries: ArchiveEntry[], mtime: number, level = 9): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    if (Buffer.byteLength(entry.name) > 100)
      throw new Error(`archive entry name too long: ${entry.name}`);
    const header = Buffer.alloc(512, 0);
    header.write(entry.name, 0, 100, `utf8`);
    header.write(octal(entry.mode & 0o7777, 8), 100, `ascii`);
    header.write(octal(0, 8), 108, `ascii`);
    header.write(octal(0, 8), 116, `ascii`);
    header.write(octal(entry.data.length, 12), 124, `ascii`);
    header.write(octal(Math.floor(mtime), 12), 136, `ascii`);
    header.write(`        `, 148, `ascii`);
    header.write(`0`, 156, `ascii`);
    header.write(`ustar\0`, 257, `ascii`);
    header.write(`00`, 263, `ascii`);
    header.write(`root`, 265, `ascii`);
    header.write(`root`, 297, `ascii`);
    let sum = 0;
    for (const byte of header)
      sum += byte;
    header.write(`${sum.toString(8).padStart(6, `0`)}\0 `, 148, `ascii`);
    blocks.push(header, entry.data);
    const pad = (512 - (entry.data.length % 512)) % 512;
    if (pad > 0)
      blocks.push(Buffer.alloc(pad, 0));
  }
  blocks.push(Buffer.alloc(1024, 0));
  return zlib.gzipSync(Buffer.concat(blocks), {level});
}

/** A zip archive (deflate), for Windows. */
export function zip(entries: ArchiveEntry[], mtime: number): Buffer {
  const date = new Date(Math.max(mtime, 315532800) * 1000);
  const dosTime = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2);
  const dosDate = ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, `utf8`);
    const compressed = zlib.deflateRawSync(entry.data, {level: 9});
    const crc = zlib.crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so that the mode below is honoured
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | (entry.mode & 0o7777)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((size, part) => size + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

// HTTP/2 frames written by hand (RFC 9113 §4.1), for tests that play a peer byte by byte.

/** One frame: the 9-byte header (length, type, flags, stream) and the payload. */
export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits, so ids sort by creation time.
 * Within one millisecond the 12-bit rand_a field counts up, keeping ids from one process monotonic.
 */
let lastMs = -1;
let seq = 0;
const buf = Buffer.alloc(16);
/** Random bytes fetched 8 KiB at a time: one system call per 1,024 ids instead of one per id. */
const pool = Buffer.alloc(8192);
let poolAt = pool.length;

export function newId(nowMs: number = Date.now()): string {
  let ms = nowMs;
  if (ms <= lastMs) {
    ms = lastMs;
    seq += 1;
    if (seq > 0xfff) {
      ms = lastMs + 1;
      seq = 0;
    }
  } else {
    seq = 0;
  }
  lastMs = ms;
  if (poolAt + 8 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(buf, 8, poolAt, poolAt + 8);
  poolAt += 8;
  buf.writeUIntBE(ms, 0, 6);
  buf[6] = 0x70 | (seq >> 8);
  buf[7] = seq & 0xff;
  buf[8] = 0x80 | ((buf[8] ?? 0) & 0x3f);
  const hex = buf.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A URL-safe random secret of the given byte length. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

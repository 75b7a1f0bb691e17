// Content hashes for dataset fingerprints: SHA-256 through SubtleCrypto (Node 20, browsers, workers
// in secure contexts), FNV-1a 64-bit where SubtleCrypto is missing (plain-http pages). The
// digests differ in length (64 vs 16 hex digits), so the two never compare equal by accident.

const te = new TextEncoder();

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** FNV-1a 64-bit of the bytes, 16 hex digits. */
export function fnv1a64(bytes: Uint8Array, seed?: bigint): string {
  // Two 32-bit halves to stay in Number arithmetic (BigInt per byte is slow).
  let h = seed ?? 0xcbf29ce484222325n;
  let hi = Number(h >> 32n) >>> 0;
  let lo = Number(h & 0xffffffffn) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]) >>> 0;
    // multiply by the FNV prime 0x100000001b3 = 2^40 + 0x1b3
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = newLo;
  }
  h = (BigInt(hi) << 32n) | BigInt(lo);
  return h.toString(16).padStart(16, '0');
}

/** The part of SubtleCrypto used here (typed locally: the core sees no DOM or Node types). */
interface Sha256 {
  digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

function subtle(): Sha256 | undefined {
  return (globalThis as { crypto?: { subtle?: Sha256 } }).crypto?.subtle;
}

/** SHA-256 of the bytes as 64 hex digits (FNV-1a 64, 16 hex digits, without SubtleCrypto). */
export async function hashBytes(bytes: Uint8Array): Promise<string> {
  const s = subtle();
  if (s) {
    const view = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
    return toHex(new Uint8Array(await s.digest('SHA-256', view)));
  }
  return fnv1a64(bytes);
}

export async function hashString(s: string): Promise<string> {
  return hashBytes(te.encode(s));
}

/** Hash of several parts (each hashed first, so nothing is concatenated in memory). */
export async function hashParts(parts: (Uint8Array | string)[]): Promise<string> {
  const digests: string[] = [];
  for (const p of parts) digests.push(typeof p === 'string' ? await hashString(p) : await hashBytes(p));
  return hashString(digests.join('\n'));
}

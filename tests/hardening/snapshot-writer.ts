// Child process of faults.test.ts: writes snapshots through FileSnapshotStore in a tight loop until
// killed: a 16 MiB binary snapshot (as the studio stores model bytes) and a ~256 KiB JSON one,
// both self-checking (their contents derive from the sequence number), so a torn write shows.
// Usage: node --import tsx snapshot-writer.ts DIR
import { FileSnapshotStore } from '../../src/node/file-store';

export const BIN_BYTES = 16 * 2 ** 20;

/** The JSON body a snapshot with sequence number `seq` must carry. */
export function snapshotBody(seq: number): string {
  const unit = `${seq.toString(36)}|`;
  return unit.repeat(Math.ceil(2 ** 18 / unit.length)).slice(0, 2 ** 18);
}

/** The binary snapshot `seq`: its number in the first 4 bytes, then a fill derived from it. */
export function binarySnapshot(seq: number): Uint8Array {
  const b = new Uint8Array(BIN_BYTES).fill((seq * 31 + 7) & 0xff);
  new DataView(b.buffer).setUint32(0, seq, true);
  return b;
}

/** The sequence number of a binary snapshot, or -1 when it is torn. */
export function checkBinary(b: Uint8Array): number {
  if (b.length !== BIN_BYTES) return -1;
  const seq = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
  const fill = (seq * 31 + 7) & 0xff;
  for (let i = 4; i < b.length; i++) if (b[i] !== fill) return -1;
  return seq;
}

async function loop(dir: string): Promise<void> {
  const store = new FileSnapshotStore(dir);
  const prev = await store.get<{ seq: number }>('run', 'state').catch(() => undefined);
  let seq = (prev?.seq ?? 0) + 1;
  for (;;) {
    await store.putBytes('run', 'model', binarySnapshot(seq));
    await store.put('run', 'state', { seq, body: snapshotBody(seq) });
    seq++;
  }
}

if (/snapshot-writer\.ts$/.test(process.argv[1] ?? '') && process.argv[2]) void loop(process.argv[2]);

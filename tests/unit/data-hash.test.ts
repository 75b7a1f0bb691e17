import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fnv1a64, hashBytes, hashParts, hashString } from '../../src/core/data/hash';

const te = new TextEncoder();

describe('hashes', () => {
  it('FNV-1a 64 matches the reference vectors', () => {
    expect(fnv1a64(new Uint8Array())).toBe('cbf29ce484222325');
    expect(fnv1a64(te.encode('a'))).toBe('af63dc4c8601ec8c');
    expect(fnv1a64(te.encode('foobar'))).toBe('85944171f73967e8');
  });

  it('SHA-256 through SubtleCrypto', async () => {
    expect(await hashString('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // a view into a larger buffer hashes only its own bytes
    const big = te.encode('xxabcxx');
    expect(await hashBytes(big.subarray(2, 5))).toBe(await hashString('abc'));
    expect(await hashParts(['a', te.encode('b')])).toBe(await hashParts([te.encode('a'), 'b']));
    expect(await hashParts(['a', 'b'])).not.toBe(await hashParts(['b', 'a']));
  });
});

describe('core purity', () => {
  it('src/core/data and src/core/metrics use no Node APIs and no DOM', () => {
    for (const dir of ['data', 'metrics']) {
      const root = fileURLToPath(new URL(`../../src/core/${dir}/`, import.meta.url));
      for (const f of readdirSync(root).filter((n) => n.endsWith('.ts'))) {
        const src = readFileSync(root + f, 'utf8');
        expect(src, `${dir}/${f}`).not.toMatch(/from ['"]node:|from ['"](fs|path|zlib|buffer|crypto)['"]|\bBuffer\.|\bprocess\.|\bdocument\.|\bwindow\./);
      }
    }
  });
});

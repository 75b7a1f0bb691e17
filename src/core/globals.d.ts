// The few globals the core uses that Node 20, browsers and web workers all provide. The core is
// type-checked with `lib: ["ES2022"]` and no `types` (tsconfig.core.json), so neither the DOM nor
// @types/node is visible here: using `document`, `window`, `indexedDB` or `process` in
// src/core fails `npm run check`. These declarations are deliberately minimal (only what the core
// calls); the browser and Node programs (tsconfig.app.json, tsconfig.node.json) get the full
// types from lib.dom / @types/node and never include this file.

/* eslint-disable no-var */

interface Performance {
  now(): number;
}
declare var performance: Performance;

interface TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}
declare var TextEncoder: { new (): TextEncoder };

interface TextDecoder {
  readonly encoding: string;
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare var TextDecoder: { new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder };

interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
}

declare function structuredClone<T>(value: T): T;

interface Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}
declare var console: Console;

declare function setTimeout(handler: () => void, timeout?: number): unknown;
declare function clearTimeout(id: unknown): void;

// Issue 6, studio half: bad files picked through the studio's own file inputs (truncated and
// random-byte models, a model with external data, labels out of the model's range, a corrupt PNG
// in an image folder, configs with an unknown key and a negative maximal_drop). Each must give a
// visible message that names the file or field and says what was expected, with no stack trace,
// and the app must stay usable: afterwards the demo loads and its preview is ready to configure.

import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import { decodeModel, encodeModel, onnx } from '../../src/core/onnx/proto';
import { prngBytes } from '../hardening/bad-models';
import { openPage, ROOT, shot, useServedBrowser } from './helpers';

const FIX = join(ROOT, 'tests/fixtures');
const CNN = join(FIX, 'models/fmnist-cnn.onnx');
const X40 = join(FIX, 'fmnist-40-x.npy');
const Y40 = join(FIX, 'fmnist-40-y.npy');
const DIR = join(ROOT, '.aaq-tmp/e2e/hardening-bad');

interface Case {
  name: string;
  /** Sets the bad input in the page; resolves to the message shown (or null when none appeared). */
  act(page: Page): Promise<string | null>;
  /** The message must name one of these (the file or the field)… */
  names: string[];
  /** …and say what was expected (one of these words). */
  expected: RegExp;
}

function makeFiles(): void {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const cnn = new Uint8Array(readFileSync(CNN));
  writeFileSync(join(DIR, 'truncated.onnx'), cnn.subarray(0, cnn.length >> 1));
  writeFileSync(join(DIR, 'random.onnx'), prngBytes(4096, 7));
  const m = decodeModel(cnn, CNN);
  const t = m.graph!.initializer![0];
  t.rawData = new Uint8Array(0);
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: 'weights.bin' })];
  writeFileSync(join(DIR, 'external-data.onnx'), encodeModel(m));
  // Labels 10…19 for a 10-class model.
  const y = parseNpy(new Uint8Array(readFileSync(Y40)), Y40).data as BigInt64Array;
  mkdirSync(join(DIR, 'range'));
  cpSync(X40, join(DIR, 'range/x40.npy'));
  writeFileSync(join(DIR, 'range/y-plus-10.npy'), encodeNpy({ dtype: 'i8', shape: [y.length], data: BigInt64Array.from(y, (v) => v + 10n) }));
  // The 40-image folder with its first image replaced by a corrupt PNG.
  const img = join(DIR, 'corrupt-images');
  cpSync(join(FIX, 'fmnist-img-40'), img, { recursive: true });
  const c0 = join(img, readdirSync(img).sort()[0]);
  writeFileSync(join(c0, readdirSync(c0).sort()[0]), readFileSync(join(FIX, 'bad/corrupt.png')));
  writeFileSync(join(DIR, 'unknown-key.json'), readFileSync(join(FIX, 'bad/configs/unknown-top-key.jsonc')));
  writeFileSync(join(DIR, 'negative-drop.json'), readFileSync(join(FIX, 'bad/configs/maximal-drop-negative.jsonc'), 'utf8').replace('-0.01', '-1'));
}

/** The first of `selectors` to show up, as text (null after `timeout`). */
async function firstText(page: Page, selectors: string[], timeout = 20_000): Promise<string | null> {
  try {
    const el = await page.waitForSelector(selectors.join(', '), { state: 'visible', timeout });
    return (await el.textContent())?.trim() ?? null;
  } catch {
    return null;
  }
}

async function pickModel(page: Page, file: string): Promise<string | null> {
  await page.setInputFiles('[data-testid="model-input"]', join(DIR, file));
  // The previous pick's message may still be on screen: wait for the one about this file.
  await page.waitForFunction((f) => document.querySelector('[data-testid="model-error"]')?.textContent?.includes(f) ?? false, file, { timeout: 20_000 }).catch(() => undefined);
  return firstText(page, ['[data-testid="model-error"]']);
}

const DATA_MESSAGES = ['[data-testid="data-pick-error"]', '[data-testid="data-error"]', '[data-testid="label-problem"]'];

async function pickData(page: Page, input: 'data-files-input' | 'data-folder-input', files: string | string[]): Promise<string | null> {
  await page.setInputFiles(`[data-testid="${input}"]`, files);
  // The message of the data picked before goes away first.
  await page.waitForFunction((sel) => !document.querySelector(sel), DATA_MESSAGES.join(', '), { timeout: 10_000 }).catch(() => undefined);
  return firstText(page, DATA_MESSAGES, 60_000);
}

async function importConfig(page: Page, file: string): Promise<string | null> {
  await page.setInputFiles('[data-testid="config-import"]', join(DIR, file));
  return firstText(page, ['[data-testid="import-note"].bad']);
}

const cases: Case[] = [
  { name: 'truncated .onnx', act: (p) => pickModel(p, 'truncated.onnx'), names: ['truncated.onnx'], expected: /expected|ONNX|truncated/i },
  { name: 'random-bytes .onnx', act: (p) => pickModel(p, 'random.onnx'), names: ['random.onnx'], expected: /expected|ONNX|not a/i },
  { name: 'model with external data', act: (p) => pickModel(p, 'external-data.onnx'), names: ['external-data.onnx', 'weights.bin'], expected: /external/i },
  {
    name: 'labels out of the model range',
    act: (p) => pickData(p, 'data-files-input', [join(DIR, 'range/x40.npy'), join(DIR, 'range/y-plus-10.npy')]),
    names: ['y-plus-10.npy'],
    expected: /expected labels 0…9/,
  },
  {
    name: 'corrupt PNG in the image folder',
    act: (p) => pickData(p, 'data-folder-input', join(DIR, 'corrupt-images')),
    names: ['corrupt-images/'],
    expected: /expected a complete, valid PNG/,
  },
  { name: 'config with an unknown key', act: (p) => importConfig(p, 'unknown-key.json'), names: ['telemetry'], expected: /expected one of/i },
  { name: 'config with maximal_drop -1', act: (p) => importConfig(p, 'negative-drop.json'), names: ['maximal_drop'], expected: /expected a number ≥ 0/ },
];

beforeAll(makeFiles);
const env = useServedBrowser();

it('gives a clear message for every bad input and stays usable', async () => {
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  let tried = 0;
  let clear = 0;
  const unclear: string[] = [];
  const check = async (c: Case) => {
    tried++;
    const text = await c.act(page);
    const ok = !!text && c.names.some((n) => text.includes(n)) && c.expected.test(text) && !/\n\s+at |\.ts:\d+|\.js:\d+/.test(text);
    console.log(`${ok ? 'clear  ' : 'UNCLEAR'} ${c.name}: ${text ?? '(no message)'}`);
    if (ok) clear++;
    else unclear.push(`${c.name}: ${text ?? '(no message)'}`);
  };

  // Bad models, then a good one (the error goes away).
  for (const c of cases.slice(0, 3)) await check(c);
  await page.setInputFiles('[data-testid="model-input"]', CNN);
  await page.waitForSelector('[data-testid="model-summary"]');
  expect(await page.$('[data-testid="model-error"]')).toBeNull();

  // Bad data, then good data.
  for (const c of cases.slice(3, 5)) {
    await check(c);
    expect(await page.isDisabled('[data-testid="to-configure"]')).toBe(true);
  }
  await page.setInputFiles('[data-testid="data-files-input"]', [X40, Y40]);
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.waitForFunction(() => !(document.querySelector('[data-testid="to-configure"]') as HTMLButtonElement).disabled);

  // Bad configs: refused, the config in the form is left as it was.
  await page.click('[data-testid="to-configure"]');
  for (const c of cases.slice(5)) {
    await check(c);
    expect(await page.$('[data-testid="config-error"]')).toBeNull();
  }
  await shot(page, 'hardening-bad-config');
  console.log(`studio bad inputs: tried ${tried}, clear ${clear}`);
  expect(unclear).toEqual([]);
  expect(clear).toBe(tried);

  // Still usable: the demo loads and is ready to configure.
  await page.click('[data-testid="nav-load"]');
  await page.click('[data-testid="try-demo"]');
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.waitForFunction(() => document.querySelector('[data-testid="data-size"]')?.textContent === '300');
  await page.waitForFunction(() => !(document.querySelector('[data-testid="to-configure"]') as HTMLButtonElement).disabled);
  expect(await page.$('[data-testid="model-error"]')).toBeNull();
  expect(ui.problems.filter((p) => !/Failed to load resource/.test(p))).toEqual([]);
  await ui.context.close();
}, 180_000);

// One validation for the CLI and the studio: what `aaq quantize` refuses before a run starts, the
// Load screen refuses too, with the same message (the same checks of src/core/run/ run in the
// worker on the picked files). Cases: a model that is not a classifier (its output is a feature
// map), and labels outside the model's classes. A classifier with good labels is not refused.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import { decodeModel, encodeModel, onnx } from '../../src/core/onnx/proto';
import { openPage, ROOT, shot, useServedBrowser } from './helpers';

const FIX = join(ROOT, 'tests/fixtures');
const DIR = join(ROOT, '.aaq-tmp/e2e/load-refusal');
const CNN = join(FIX, 'models/fmnist-cnn.onnx');

function makeFiles(): void {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  // The Fashion-MNIST CNN cut after its first Conv: it outputs [N, 16, 28, 28] feature maps.
  const m = decodeModel(new Uint8Array(readFileSync(CNN)), CNN);
  const conv = m.graph!.node!.find((n) => n.opType === 'Conv')!;
  m.graph!.output = [onnx.ValueInfoProto.create({ name: conv.output![0], type: { tensorType: { elemType: 1 } } })];
  writeFileSync(join(DIR, 'not-classifier.onnx'), encodeModel(m));
  copyFileSync(CNN, join(DIR, 'fmnist-cnn.onnx'));
  copyFileSync(join(FIX, 'fmnist-40-x.npy'), join(DIR, 'x40.npy'));
  copyFileSync(join(FIX, 'fmnist-40-y.npy'), join(DIR, 'y40.npy'));
  // Labels 10…19 for the 10-class model.
  const y = parseNpy(new Uint8Array(readFileSync(join(FIX, 'fmnist-40-y.npy'))), 'y40.npy').data as BigInt64Array;
  mkdirSync(join(DIR, 'range'));
  copyFileSync(join(FIX, 'fmnist-40-x.npy'), join(DIR, 'range/x40.npy'));
  writeFileSync(join(DIR, 'range/y40.npy'), encodeNpy({ dtype: 'i8', shape: [y.length], data: BigInt64Array.from(y, (v) => v + 10n) }));
}

/** The CLI's one-line refusal (stderr) for `model` and the data in `data/`, the paths as the studio names the files. */
function cliRefusal(model: string, data: string): string {
  // The config the studio makes for these files (app-state.svelte.ts: the default AAQ config, the
  // model's name, gray for its one input channel, the picked data and labels).
  const config = {
    model: { model_name: model.replace(/\.onnx$/, ''), model },
    engine: { dataset: { data_source: `${data}/x40.npy`, labels: `${data}/y40.npy`, color: 'gray' } },
    compression: { algorithms: [{ name: 'AccuracyAwareQuantization' }] },
  };
  writeFileSync(join(DIR, 'config.json'), JSON.stringify(config));
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/main.ts'), 'quantize', '-c', 'config.json', '-o', join(DIR, 'out.onnx'), '-q'], {
    cwd: DIR,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(1);
  const line = r.stderr.split('\n').find((l) => l.startsWith('aaq: '));
  expect(line, r.stderr).toBeDefined();
  return line!.slice('aaq: '.length).replaceAll(`${DIR}/${data}/`, '').replaceAll(`${DIR}/`, '');
}

/** Picks the model and the data on the Load screen; the refusal shown (null when the run can start). */
async function pick(page: Page, model: string, data: string): Promise<string | null> {
  await page.setInputFiles('[data-testid="model-input"]', join(DIR, model));
  await page.waitForFunction((m) => document.querySelector('[data-testid="model-summary"]')?.textContent?.includes(m), model);
  await page.setInputFiles('[data-testid="data-files-input"]', [join(DIR, data, 'x40.npy'), join(DIR, data, 'y40.npy')]);
  // The check ends in a refusal or in "Ready".
  await page.waitForFunction(
    () => document.querySelector('[data-testid="run-refused"]') || !(document.querySelector('[data-testid="to-configure"]') as HTMLButtonElement).disabled,
    null,
    { timeout: 60_000 },
  );
  const refused = await page.$('[data-testid="run-refused"]');
  return refused ? ((await refused.textContent()) ?? '').trim() : null;
}

beforeAll(makeFiles);
const env = useServedBrowser();

it("refuses on the Load screen what the CLI refuses, with the CLI's message", async () => {
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;

  const notClassifier = cliRefusal('not-classifier.onnx', '.');
  console.log(`CLI: ${notClassifier}`);
  expect(notClassifier).toMatch(/^not-classifier\.onnx: output '.+' has shape \[1, 16, 28, 28\] \(expected classifier scores/);
  expect(await pick(page, 'not-classifier.onnx', '.')).toBe(notClassifier);
  expect(await page.isDisabled('[data-testid="to-configure"]')).toBe(true);
  // No hint that the labels fit the feature map's last dimension.
  expect(await page.textContent('[data-testid="data-summary"]')).not.toContain('Labels fit');
  await shot(page, 'load-refused-not-classifier');

  // A classifier with the same data: not refused, ready to configure.
  expect(await pick(page, 'fmnist-cnn.onnx', '.')).toBeNull();

  const outOfRange = cliRefusal('fmnist-cnn.onnx', 'range');
  console.log(`CLI: ${outOfRange}`);
  expect(outOfRange).toContain('is out of range for the model');
  expect(await pick(page, 'fmnist-cnn.onnx', 'range')).toBe(outOfRange);
  expect(await page.isDisabled('[data-testid="to-configure"]')).toBe(true);

  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 240_000);

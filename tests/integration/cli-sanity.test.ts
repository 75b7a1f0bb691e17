// Issue 13 acceptance, CLI: the PaddleOCR text-direction classifier run without its preprocessing,
// and on images of the wrong size, never ends as a plain "met": a warning on stderr names the
// likely cause, the report records it, the summary says "unreliable". The same model on its own
// preprocessing and enough samples is the control (no finding).
//
// Fixtures: tests/fixtures/ocr-img-24 is the first 12 images of each class of bench/data/ocr-100
// (192×48 rendered text lines); ocr-img-wrong-size-40 the first 20 of each class resized to 32×32
// (PIL, bilinear).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, readReport, runCli, tempDir } from './cli-helpers';

const MODEL = join(FIXTURES, 'models/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const NORMALIZE = [{ type: 'normalization', mean: 127.5, std: 127.5 }];

function config(dir: string, name: string, data: string, preprocessing: object[], color: string, maximalDrop: number): string {
  const path = join(dir, `${name}.json`);
  const cfg = {
    model: { model_name: 'ppocr-cls', model: MODEL },
    engine: { dataset: { data_source: join(FIXTURES, data), color, preprocessing }, metrics: [{ name: 'accuracy@top1' }] },
    compression: { algorithms: [{ name: 'AccuracyAwareQuantization', params: { preset: 'performance', stat_subset_size: 300, maximal_drop: maximalDrop } }] },
  };
  writeFileSync(path, JSON.stringify(cfg));
  return path;
}

async function quantize(name: string, data: string, preprocessing: object[], color: string, maximalDrop: number) {
  const dir = tempDir(`aaq-sanity-${name}-`);
  const r = await runCli(['quantize', '-c', config(dir, name, data, preprocessing, color, maximalDrop), '-o', join(dir, 'q.onnx'), '-r', join(dir, 'r.json')]);
  expect(r.code, r.stderr).toBe(0);
  const status =
    r.stdout
      .split('\n')
      .find((l) => l.trim().startsWith('status:'))
      ?.trim() ?? '';
  return { ...r, report: readReport(join(dir, 'r.json')), status };
}

describe('sanity checks on the PaddleOCR classifier (CLI)', () => {
  it('control: its own preprocessing on 24 images, maximal_drop 0.05: no finding', async () => {
    const r = await quantize('control', 'ocr-img-24', NORMALIZE, 'bgr', 0.05);
    expect(r.report.sanity).toEqual({ reliable: true, findings: [] });
    expect(r.status).not.toContain('unreliable');
    expect(r.stderr).not.toMatch(/no better than chance|collapsed|raw pixel/);
  }, 120_000);

  it('without its preprocessing: warned on stderr with the likely cause, never a plain "met"', async () => {
    const r = await quantize('raw', 'ocr-img-24', [], 'rgb', 0.05);
    expect(r.report.baseline.metrics['accuracy@top1']).toBe(0.5);
    expect(r.stderr).toMatch(/^warning: the preprocessed inputs span \[\d+, 255\].*Likely cause: engine\.dataset\.preprocessing has no normalization step/m);
    expect(r.stderr).toMatch(/^warning: FP32 accuracy@top1 is 50\.00 % on 24 samples, no better than chance.*Likely cause: the inputs are not preprocessed as the model expects/m);
    expect(r.status).toMatch(/^status: \S+ — unreliable: FP32 accuracy@top1 is 50\.00 %/);
    expect(r.stdout).not.toMatch(/status: met;/);
    expect(r.report.sanity?.reliable).toBe(false);
    expect(r.report.sanity?.findings.map((f) => f.check)).toEqual(['input-range', 'chance']);
    expect(r.report.warnings.some((w) => w.includes('no normalization step'))).toBe(true);
  }, 120_000);

  it('images of the wrong size (32×32 into the dynamic-size input): warned, naming the size', async () => {
    const r = await quantize('wrong-size', 'ocr-img-wrong-size-40', NORMALIZE, 'bgr', 0.01);
    expect(r.stderr).toMatch(
      /^warning: FP32 accuracy@top1 is [\d.]+ % on 40 samples, no better than chance.*Likely cause: images of a size the model was not trained on.*3×32×32/m,
    );
    expect(r.stderr).toMatch(/^warning: one sample is worth 2\.50 pp of the metric on 40 samples, more than the allowed drop of 1\.00 pp/m);
    expect(r.status).toMatch(/^status: \S+ — unreliable: /);
    expect(r.stdout).not.toMatch(/status: met;/);
    expect(r.report.sanity?.findings.map((f) => f.check)).toEqual(['chance', 'too-few-samples']);
  }, 120_000);

  it('aaq eval prints the same checks of the FP32 metric', async () => {
    const dir = tempDir('aaq-sanity-eval-');
    const r = await runCli(['eval', '-c', config(dir, 'raw', 'ocr-img-24', [], 'rgb', 0.05)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: FP32 accuracy@top1 is 50\.00 % on 24 samples, no better than chance/m);
    expect(JSON.parse(r.stdout).sanity.reliable).toBe(false);
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { parsePotConfig, potConfigFromObject } from '../../src/core/config/parse';
import { defaultAaqConfig, toPotConfigJson } from '../../src/core/config/serialize';
import type { AccuracyAwareParams, PotConfig } from '../../src/core/config/types';
import { QuantizeError } from '../../src/core/types';

// A minimal config in the format README.md documents ("The config file").
const MINIMAL = `/* accuracy-aware quantization of a small classifier */
{
  "model": { "model_name": "fmnist-cnn", "model": "fmnist-cnn.onnx" },
  "engine": {
    "dataset": { "data_source": "fmnist-val-2000/", "color": "gray",
                 "preprocessing": [ { "type": "normalization", "mean": 72.93, "std": 90.015 } ] },
    "metrics": [ { "name": "accuracy@top1" } ]
  },
  "compression": {
    "target_device": "ANY",          // hardware rules
    "algorithms": [ { "name": "AccuracyAwareQuantization",
                      "params": { "preset": "performance", "stat_subset_size": 300,
                                  "maximal_drop": 0.01, "tune_hyperparams": false } } ]
  }
}
`;

// The shape of OpenVINO POT's accuracy_aware_quantization_template.json: a block comment before
// the brace, block comments between sections, line comments after values (some continued on the
// next line), an IR model with its weights and an Accuracy Checker config by path.
const POT_TEMPLATE = `/* Starting point for accuracy-aware quantization. Only the mandatory options are
given here, with common values; the spec file describes every other parameter. */

{
    /* Model parameters */

    "model": {
        "model_name": "model_name", // Model name
        "model": "<MODEL_PATH>", // Path to model (.xml format)
        "weights": "<PATH_TO_WEIGHTS>" // Path to weights (.bin format)
    },

    /* Parameters of the engine used for model inference */

    "engine": {
        "config": "<CONFIG_PATH>" // Path to Accuracy Checker config
    },

    /* Optimization hyperparameters */

    "compression": {
        "target_device": "ANY", // Target device whose rules are used
                                // during optimization
        "algorithms": [
            {
                "name": "AccuracyAwareQuantization", // Optimization algorithm name
                "params": {
                    "preset": "performance", // Preset [performance, mixed, accuracy]: symmetric,
                                             // mixed or asymmetric quantization

                    "stat_subset_size": 300, // Samples used for activation statistics

                    "maximal_drop": 0.01, // Maximum accuracy drop allowed after quantization
                    "tune_hyperparams": false // Whether to search the quantization parameters
                }
            }
        ]
    }
}
`;

const AAQ_DEFAULTS: AccuracyAwareParams = {
  preset: 'performance',
  stat_subset_size: 300,
  target_device: 'ANY',
  ignored: { scope: [], operations: [] },
  model_type: null,
  range_estimator: {},
  activations: {},
  weights: {},
  use_fast_bias: true,
  bias_correction: true,
  shuffle_data: false,
  seed: 0,
  inplace_statistics: true,
  ranking_subset_size: null,
  max_iter_num: null,
  maximal_drop: 0.01,
  drop_type: 'absolute',
  use_prev_if_drop_increase: true,
  base_algorithm: 'DefaultQuantization',
  convert_to_mixed_preset: false,
  metrics: null,
  metric_subset_ratio: 0.5,
  tune_hyperparams: false,
  annotation_free: false,
  return_best: false,
  exclude_rolled_back: false,
  reuse_evaluations: true,
  early_stop: true,
  lazy_ranking: true,
  prefix_cache: true,
  revert_mode: 'FP32',
};

/** A small valid config as an object, to be altered per case. */
function base(params: Record<string, unknown> = {}): Record<string, any> {
  return {
    model: { model: 'm.onnx' },
    engine: { dataset: { data_source: 'val/' } },
    compression: { algorithms: [{ name: 'AccuracyAwareQuantization', params }] },
  };
}

const text = (o: unknown) => JSON.stringify(o, null, 2);

function parseError(src: string, file = 'c.json'): QuantizeError {
  try {
    parsePotConfig(src, file);
  } catch (e) {
    expect(e).toBeInstanceOf(QuantizeError);
    return e as QuantizeError;
  }
  throw new Error('expected a QuantizeError');
}

function aaq(cfg: PotConfig): AccuracyAwareParams {
  const a = cfg.compression.algorithms[0];
  expect(a.name).toBe('AccuracyAwareQuantization');
  return a.params as AccuracyAwareParams;
}

describe('parsePotConfig: files as POT users write them', () => {
  it('reads the minimal file of the format doc and fills every default', () => {
    const { config, warnings } = parsePotConfig(MINIMAL, 'fmnist.json');
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      model: { model_name: 'fmnist-cnn', model: 'fmnist-cnn.onnx' },
      engine: {
        type: 'accuracy_checker',
        dataset: {
          data_source: 'fmnist-val-2000/',
          color: 'gray',
          preprocessing: [{ type: 'normalization', mean: 72.93, std: 90.015 }],
        },
        metrics: [{ name: 'accuracy@top1' }],
      },
      compression: {
        target_device: 'ANY',
        algorithms: [{ name: 'AccuracyAwareQuantization', params: AAQ_DEFAULTS }],
      },
    });
  });

  it('loads the POT AccuracyAwareQuantization template unchanged, with notes for IR weights and the AC config', () => {
    const { config, warnings } = parsePotConfig(POT_TEMPLATE, 'accuracy_aware_quantization_template.json');
    expect(config.model).toEqual({ model_name: 'model_name', model: '<MODEL_PATH>' });
    const p = aaq(config);
    expect([p.preset, p.stat_subset_size, p.maximal_drop, p.tune_hyperparams]).toEqual(['performance', 300, 0.01, false]);
    expect(p).toEqual(AAQ_DEFAULTS);
    // No data in the file: the CLI's --data supplies it; the metric falls back to accuracy@top1.
    expect(config.engine.dataset.data_source).toBe('');
    expect(config.engine.metrics).toEqual([{ name: 'accuracy@top1' }]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^model\.weights: .*ignored/);
    expect(warnings[1]).toMatch(/^engine\.config: .*"<CONFIG_PATH>" is NOT read.*engine\.dataset and engine\.metrics/);
  });

  it('accepts trailing commas and a byte-order mark', () => {
    const src = '\uFEFF' + MINIMAL.replace('"tune_hyperparams": false }', '"tune_hyperparams": false, }');
    expect(aaq(parsePotConfig(src, 'x.json').config).tune_hyperparams).toBe(false);
  });

  it('maps the simplified-mode engine.data_source to dataset.data_source', () => {
    const { config } = parsePotConfig(
      `{ "model": {"model": "dir/net.onnx"}, "engine": {"type": "simplified", "data_source": "imgs/"},
         "compression": {"algorithms": [{"name": "DefaultQuantization", "params": {"preset": "mixed"}}]} }`,
      's.json',
    );
    expect(config.model.model_name).toBe('net');
    expect(config.engine.type).toBe('simplified');
    expect(config.engine.dataset.data_source).toBe('imgs/');
    const a = config.compression.algorithms[0];
    expect(a.name).toBe('DefaultQuantization');
    expect(a.params.preset).toBe('mixed');
    expect(a.params.stat_subset_size).toBe(300);
    expect('maximal_drop' in a.params).toBe(false);
  });

  it('reads an inline Accuracy Checker engine (datasets, metric type/top_k aliases) and AAQ metrics by AC name', () => {
    const { config, warnings } = parsePotConfig(
      `{
        "model": {"model": "mobilenet.onnx"},
        "engine": {
          "launchers": [{"framework": "dlsdk", "adapter": "classification"}],
          "datasets": [{
            "name": "imagenet", "data_source": "val/", "annotation": "val.pickle",
            "preprocessing": [
              {"type": "resize", "size": 256, "interpolation": "BILINEAR"},
              {"type": "crop", "dst_height": 224, "dst_width": 224},
              {"type": "normalization", "mean": "(123.675, 116.28, 103.53)", "std": [58.395, 57.12, 57.375]}
            ],
            "metrics": [{"name": "acc", "type": "accuracy", "top_k": 1}, {"type": "accuracy", "top_k": 5}]
          }]
        },
        "compression": {"algorithms": [{"name": "AccuracyAwareQuantization",
          "params": {"metrics": [{"name": "acc", "baseline_value": 0.72}]}}]}
      }`,
      'ac.json',
    );
    expect(config.engine.metrics).toEqual([
      { name: 'accuracy@top1', type: 'accuracy@top1' },
      { name: 'accuracy@top5', type: 'accuracy@top5' },
    ]);
    expect(aaq(config).metrics).toEqual([{ name: 'accuracy@top1', baseline_value: 0.72 }]);
    expect(config.engine.dataset.preprocessing).toEqual([
      { type: 'resize', size: 256 },
      { type: 'crop', dst_height: 224, dst_width: 224 },
      { type: 'normalization', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] },
    ]);
    for (const key of ['engine.launchers', 'engine.datasets[0].name', 'engine.datasets[0].annotation', 'engine.datasets[0].preprocessing[0].interpolation']) {
      expect(warnings.some((w) => w.startsWith(key + ':'))).toBe(true);
    }
  });

  it('copies compression-level model_type / inplace_statistics into the params and reads POT\'s "None"', () => {
    const o = base({ preset: '' });
    o.compression.model_type = 'transformer';
    o.compression.inplace_statistics = false;
    const p = aaq(parsePotConfig(text(o), 'c.json').config);
    expect(p.model_type).toBe('transformer');
    expect(p.inplace_statistics).toBe(false);
    expect(p.preset).toBe('performance');
    const o2 = base({ model_type: 'None' });
    expect(aaq(parsePotConfig(text(o2), 'c.json').config).model_type).toBeNull();
  });

  it('fills nested DefaultQuantization parameters', () => {
    const p = aaq(
      parsePotConfig(
        text(
          base({
            ignored: { operations: [{ type: 'Add' }] },
            activations: { mode: 'asymmetric', bits: 8, range_estimator: { preset: 'quantile', max: { type: 'quantile', outlier_prob: 1e-4 } } },
            ranking_subset_size: 100,
            max_iter_num: 5,
            drop_type: 'relative',
          }),
        ),
        'c.json',
      ).config,
    );
    expect(p.ignored).toEqual({ scope: [], operations: [{ type: 'Add' }] });
    expect(p.activations).toEqual({ mode: 'asymmetric', bits: 8, range_estimator: { preset: 'quantile', max: { type: 'quantile', outlier_prob: 1e-4 } } });
    expect(p.weights).toEqual({});
    expect([p.ranking_subset_size, p.max_iter_num, p.drop_type]).toEqual([100, 5, 'relative']);
  });

  it('takes the engine metrics from the AAQ metrics when the engine lists none', () => {
    const { config } = parsePotConfig(text(base({ metrics: [{ name: 'agreement@top1' }] })), 'c.json');
    expect(config.engine.metrics).toEqual([{ name: 'agreement@top1' }]);
  });
});

describe('parsePotConfig: errors name the file, the field and what is expected', () => {
  it('reports JSON syntax errors with line:column', () => {
    const e = parseError('{\n  "model": {"model": "a.onnx"}\n  "engine": {}\n}', 'broken.json');
    expect(e.file).toBe('broken.json');
    expect(e.message).toMatch(/^broken\.json: JSON syntax error at 3:3: comma expected/);
    expect(parseError('', 'empty.json').message).toMatch(/^empty\.json: JSON syntax error at 1:1/);
  });

  it('names the full path of an unknown key, suggests the near one and lists the allowed keys', () => {
    const src = MINIMAL.replace('"maximal_drop": 0.01', '"maximal_dorp": 0.01');
    const e = parseError(src, 'typo.json');
    expect(e.field).toBe('compression.algorithms[0].params.maximal_dorp');
    expect(e.message).toContain('typo.json: compression.algorithms[0].params.maximal_dorp: unknown key "maximal_dorp"');
    expect(e.message).toContain('did you mean "maximal_drop"?');
    expect(e.message).toContain('(at 13:35)'); // the key's position in the file
    expect(e.expected).toMatch(/^one of: preset, stat_subset_size, .*maximal_drop/);

    const top = parseError(MINIMAL.replace('"model":', '"modle":'), 'top.json');
    expect(top.field).toBe('modle');
    expect(top.expected).toBe('one of: model, engine, compression');
  });

  const cases: [string, (o: Record<string, any>) => void, string, RegExp][] = [
    ['maximal_drop -1', (o) => (o.compression.algorithms[0].params.maximal_drop = -1), 'compression.algorithms[0].params.maximal_drop', /a number ≥ 0/],
    ['maximal_drop as a string', (o) => (o.compression.algorithms[0].params.maximal_drop = '0.01'), 'compression.algorithms[0].params.maximal_drop', /a number ≥ 0/],
    ['ranking_subset_size 0', (o) => (o.compression.algorithms[0].params.ranking_subset_size = 0), 'compression.algorithms[0].params.ranking_subset_size', /integer ≥ 1, or null/],
    ['ranking_subset_size 2.5', (o) => (o.compression.algorithms[0].params.ranking_subset_size = 2.5), 'compression.algorithms[0].params.ranking_subset_size', /integer ≥ 1/],
    ['stat_subset_size 0', (o) => (o.compression.algorithms[0].params.stat_subset_size = 0), 'compression.algorithms[0].params.stat_subset_size', /integer ≥ 1/],
    ['max_iter_num 0', (o) => (o.compression.algorithms[0].params.max_iter_num = 0), 'compression.algorithms[0].params.max_iter_num', /integer ≥ 1/],
    ['metric_subset_ratio 0', (o) => (o.compression.algorithms[0].params.metric_subset_ratio = 0), 'compression.algorithms[0].params.metric_subset_ratio', /> 0 and ≤ 1/],
    ['metric_subset_ratio 1.5', (o) => (o.compression.algorithms[0].params.metric_subset_ratio = 1.5), 'compression.algorithms[0].params.metric_subset_ratio', /> 0 and ≤ 1/],
    ['preset fast', (o) => (o.compression.algorithms[0].params.preset = 'fast'), 'compression.algorithms[0].params.preset', /"performance", "mixed", "accuracy"/],
    ['drop_type x', (o) => (o.compression.algorithms[0].params.drop_type = 'x'), 'compression.algorithms[0].params.drop_type', /"absolute", "relative"/],
    ['boolean as string', (o) => (o.compression.algorithms[0].params.tune_hyperparams = 'false'), 'compression.algorithms[0].params.tune_hyperparams', /boolean/],
    ['boolean as number', (o) => (o.compression.algorithms[0].params.use_fast_bias = 1), 'compression.algorithms[0].params.use_fast_bias', /boolean/],
    ['seed -1', (o) => (o.compression.algorithms[0].params.seed = -1), 'compression.algorithms[0].params.seed', /integer ≥ 0/],
    ['4-bit weights', (o) => (o.compression.algorithms[0].params.weights = { bits: 4 }), 'compression.algorithms[0].params.weights.bits', /^8$/],
    ['ignored as a list', (o) => (o.compression.algorithms[0].params.ignored = ['conv1']), 'compression.algorithms[0].params.ignored', /object/],
    [
      'outlier_prob 2',
      (o) => (o.compression.algorithms[0].params.range_estimator = { min: { outlier_prob: 2 } }),
      'compression.algorithms[0].params.range_estimator.min.outlier_prob',
      /< 1/,
    ],
    [
      'base_algorithm',
      (o) => (o.compression.algorithms[0].params.base_algorithm = 'MinMaxQuantization'),
      'compression.algorithms[0].params.base_algorithm',
      /"DefaultQuantization"/,
    ],
    ['unknown algorithm', (o) => (o.compression.algorithms[0].name = 'QuantizeWithBias'), 'compression.algorithms[0].name', /DefaultQuantization.*AccuracyAwareQuantization/],
    ['no algorithms', (o) => (o.compression.algorithms = []), 'compression.algorithms', /non-empty list/],
    ['no compression', (o) => delete o.compression, 'compression', /compression/],
    ['target_device TPU', (o) => (o.compression.target_device = 'TPU'), 'compression.target_device', /"ANY", "CPU"/],
    ['color cmyk', (o) => (o.engine.dataset.color = 'cmyk'), 'engine.dataset.color', /"rgb", "bgr", "gray"/],
    ['layout', (o) => (o.engine.dataset.layout = 'CHW'), 'engine.dataset.layout', /"NCHW", "NHWC"/],
    ['std 0', (o) => (o.engine.dataset.preprocessing = [{ type: 'normalization', std: [1, 0, 1] }]), 'engine.dataset.preprocessing[0].std[1]', /> 0/],
    ['resize without size', (o) => (o.engine.dataset.preprocessing = [{ type: 'resize', dst_height: 10 }]), 'engine.dataset.preprocessing[0]', /dst_height.*dst_width/],
    ['mean on a crop', (o) => (o.engine.dataset.preprocessing = [{ type: 'crop', size: 10, mean: 1 }]), 'engine.dataset.preprocessing[0].mean', undefined as unknown as RegExp],
    ['unknown step', (o) => (o.engine.dataset.preprocessing = [{ type: 'flip' }]), 'engine.dataset.preprocessing[0].type', /"resize", "crop", "normalization"/],
    ['unknown metric', (o) => (o.engine.metrics = [{ name: 'mAP' }]), 'engine.metrics[0].name', /accuracy@top1/],
    ['top_k 3', (o) => (o.engine.metrics = [{ type: 'accuracy', top_k: 3 }]), 'engine.metrics[0].top_k', /top_k 1 or 5/],
    ['repeated metric', (o) => (o.engine.metrics = [{ name: 'accuracy@top1' }, { type: 'accuracy' }]), 'engine.metrics[1]', /once/],
    [
      'AAQ metric the engine does not compute',
      (o) => {
        o.engine.metrics = [{ name: 'accuracy@top1' }];
        o.compression.algorithms[0].params.metrics = [{ name: 'accuracy@top5' }];
      },
      'compression.algorithms[0].params.metrics[0].name',
      /engine's metrics: accuracy@top1/,
    ],
    ['model_name empty', (o) => (o.model.model_name = ''), 'model.model_name', /non-empty string/],
  ];

  it.each(cases)('%s', (_label, mutate, field, expected) => {
    const o = base();
    mutate(o);
    const e = parseError(text(o), 'bad.json');
    expect(e.file).toBe('bad.json');
    expect(e.field).toBe(field);
    expect(e.message).toContain(`bad.json: ${field}: `);
    if (expected) expect(e.expected).toMatch(expected);
  });

  it('rejects a config that is not an object', () => {
    expect(parseError('[1, 2]', 'list.json').message).toMatch(/^list\.json: must be an object/);
  });
});

describe('parsePotConfig: warnings for what POT knows but we do not do', () => {
  it('names each known-but-unsupported key and keeps the rest of the config', () => {
    const o = base({
      maximal_drop: 0.02,
      use_layerwise_tuning: false,
      saturation_fix: 'first_layer',
      annotation_conf_threshold: 0.6,
      outlier_prob_choices: [1e-3],
      weights: { bits: 8, level_low: -127, level_high: 127 },
    });
    o.compression.dump_intermediate_model = true;
    o.compression.target_device = 'GPU';
    o.engine.stat_requests_number = 8;
    o.compression.algorithms.push({ name: 'DefaultQuantization', params: { maximal_drop: 0.5 } });
    const { config, warnings } = parsePotConfig(text(o), 'w.json');
    expect(aaq(config).maximal_drop).toBe(0.02);
    expect(aaq(config).target_device).toBe('GPU');
    expect(aaq(config).weights).toEqual({ bits: 8 });
    const keys = warnings.map((w) => w.slice(0, w.indexOf(':')));
    expect(keys).toEqual([
      'engine.stat_requests_number',
      'compression.dump_intermediate_model',
      'compression.target_device',
      'compression.algorithms[0].params.use_layerwise_tuning',
      'compression.algorithms[0].params.saturation_fix',
      'compression.algorithms[0].params.annotation_conf_threshold',
      'compression.algorithms[0].params.outlier_prob_choices',
      'compression.algorithms[0].params.weights.level_low',
      'compression.algorithms[0].params.weights.level_high',
      'compression.algorithms[1].params.maximal_drop',
      'compression.algorithms',
    ]);
    expect(warnings[2]).toMatch(/"GPU".*CPU quantization rules/);
    expect(warnings[3]).toMatch(/not implemented/);
    expect(warnings[9]).toMatch(/AccuracyAwareQuantization parameter; ignored by DefaultQuantization/);
    expect(warnings[10]).toMatch(/only the first \(AccuracyAwareQuantization\) is run/);
  });
});

describe('toPotConfigJson / defaultAaqConfig', () => {
  it('round-trips a parsed config', () => {
    for (const src of [MINIMAL, POT_TEMPLATE]) {
      const a = parsePotConfig(src, 'a.json').config;
      const json = toPotConfigJson(a);
      expect(json).toContain('\n  "model": {');
      const b = parsePotConfig(json, 'b.json');
      expect(b.config).toEqual(a);
      expect(b.warnings).toEqual([]);
    }
  });

  it('round-trips non-default nested parameters', () => {
    const o = base({
      preset: 'accuracy',
      ignored: { scope: ['conv1'], operations: [{ type: 'Add', attributes: { axis: 1 } }], skip_model: false },
      range_estimator: { preset: 'quantile', min: { aggregator: 'median', clipping_value: 0 } },
      metrics: [{ name: 'accuracy@top1', type: 'accuracy@top1', baseline_value: 0.9 }],
      ranking_subset_size: 64,
      return_best: true,
    });
    o.engine.dataset = { data_source: 'x.npy', labels: 'y.npy', color: 'bgr', layout: 'NHWC', preprocessing: [{ type: 'resize', size: 32 }] };
    const a = parsePotConfig(text(o), 'a.json').config;
    const b = parsePotConfig(toPotConfigJson(a), 'b.json').config;
    expect(b).toEqual(a);
    expect(aaq(b).metrics).toEqual([{ name: 'accuracy@top1', type: 'accuracy@top1', baseline_value: 0.9 }]);
  });

  it('builds the default AAQ config for a model and data', () => {
    const cfg = defaultAaqConfig('models/fmnist-cnn.onnx', 'data/val/');
    expect(cfg).toEqual({
      model: { model_name: 'fmnist-cnn', model: 'models/fmnist-cnn.onnx' },
      engine: { type: 'accuracy_checker', dataset: { data_source: 'data/val/', color: 'rgb', preprocessing: [] }, metrics: [{ name: 'accuracy@top1' }] },
      compression: { target_device: 'ANY', algorithms: [{ name: 'AccuracyAwareQuantization', params: AAQ_DEFAULTS }] },
    });
    expect(parsePotConfig(toPotConfigJson(cfg), 'd.json').config).toEqual(cfg);
    // Fresh objects each time: editing one config does not leak into the next.
    aaq(cfg).ignored.scope.push('x');
    expect(aaq(defaultAaqConfig('m.onnx', 'd')).ignored.scope).toEqual([]);
  });

  it('potConfigFromObject applies the same checks without a text', () => {
    expect(() => potConfigFromObject(base({ maximal_drop: -1 }), 'obj')).toThrow(/obj: compression\.algorithms\[0\]\.params\.maximal_drop: /);
  });
});

describe('issue 12: target_device ONNXRUNTIME and revert_mode', () => {
  it('ONNXRUNTIME is accepted without the "CPU rules" warning; revert_mode defaults to FP32 and accepts INT8_WEIGHTS', () => {
    const o = base({ revert_mode: 'INT8_WEIGHTS' });
    o.compression.target_device = 'ONNXRUNTIME';
    const { config, warnings } = parsePotConfig(text(o), 'r.json');
    expect(aaq(config).target_device).toBe('ONNXRUNTIME');
    expect(aaq(config).revert_mode).toBe('INT8_WEIGHTS');
    expect(warnings.filter((w) => w.includes('target_device'))).toEqual([]);
    expect(aaq(parsePotConfig(text(base()), 'r.json').config).revert_mode).toBe('FP32');
  });

  it('an unknown revert_mode is an error naming the field and the choices', () => {
    expect(() => parsePotConfig(text(base({ revert_mode: 'INT4' })), 'r.json')).toThrow(/revert_mode.*"FP32", "INT8_WEIGHTS"/);
  });
});

// Writing a PotConfig back as a POT config file, and the config a new run starts from.

import { potConfigFromObject } from './parse';
import type { PotConfig } from './types';

/**
 * Pretty JSON (no comments) with every parameter in force, defaults included. Parsing the result
 * with parsePotConfig gives back an equal config.
 */
export function toPotConfigJson(cfg: PotConfig): string {
  return JSON.stringify(cfg, null, 2) + '\n';
}

/**
 * AccuracyAwareQuantization with POT's defaults (maximal_drop 0.01, performance preset, …) on
 * `modelPath`, data from `dataSource`, the default metric (DEFAULT_METRIC in metrics/registry.ts).
 */
export function defaultAaqConfig(modelPath: string, dataSource: string): PotConfig {
  return potConfigFromObject(
    {
      model: { model: modelPath },
      engine: { dataset: { data_source: dataSource } },
      compression: { algorithms: [{ name: 'AccuracyAwareQuantization' }] },
    },
    '<default config>',
  ).config;
}

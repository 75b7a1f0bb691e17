export * from './types';
export { parsePotConfig, potConfigFromObject } from './parse';
export { toPotConfigJson, defaultAaqConfig } from './serialize';
export { ALGORITHM_NAMES, DEFAULT_STAT_SUBSET_SIZE, METRIC_NAMES, PRESETS, TARGET_DEVICES, defaultAaqParams, defaultDqParams, modelNameFrom } from './defaults';

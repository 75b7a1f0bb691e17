// Public API of the quantization algorithms.
export * from './backend';
export { runAccuracyAware, initialRunState, buildResult } from './accuracy-aware';
export { runDefaultQuantization, type DefaultQuantizationResult } from './default-quantization';
export type * from './history';
export * from './drop';
export * from './ranking';
export { createRanker, recordOf, reportedRankings, type NextEntry, type NextInput, type RankInput, type Ranker, type RankerFactory, type Ranking } from './ranker';
export * from './tuning';
export { baseParams, isPresetPerformance, mixedPresetParams } from './params';
export { mulberry32, sampleSorted, seedState } from './prng';
export { MSG_MAX_ITER, MSG_NOT_ACHIEVED } from './aaq-context';

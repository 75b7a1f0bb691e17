// Datasets, decoders and preprocessing (pure TypeScript: runs in Node, browsers and web workers).
export * from './source';
export { MemorySource } from './memory-source';
export * from './npy';
export * from './idx';
export * from './image';
export * from './labels';
export * from './preprocess';
export * from './hash';
export * from './dataset';

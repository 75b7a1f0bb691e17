// Architecture rules, checked by `npm run lint:deps` (part of `npm run check`, so of `npm test`):
//   dependency-cruiser (https://github.com/sverweij/dependency-cruiser) over src/, workers/ and bench/.
// tests/unit/arch-rules.test.ts proves each rule fires on a small violating tree.
//
// Layers: src/core is the portable engine (no DOM, no Node: see tsconfig.core.json for the
// type-level half of that rule); src/node + src/cli are the Node front end; src/app + workers are
// the browser front end. Both front ends import the core, never the other way round.

/** Node-only npm packages: the core must not pull them in (the browser bundle imports the core). */
const NODE_ONLY_PACKAGES = '(^|/)node_modules/(onnxruntime-node|pngjs|commander|tsx)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only imports included) make the load order fragile: move the shared piece into its own module.',
      from: { path: '^(src|workers|bench)/' },
      to: { circular: true },
    },
    {
      name: 'core-not-to-front-ends',
      severity: 'error',
      comment: 'src/core is shared by the browser and the Node front ends: it imports nothing from src/node, src/cli, src/app or workers/.',
      from: { path: '^src/core/' },
      to: { path: '^(src/(node|cli|app)|workers)/' },
    },
    {
      name: 'core-no-node-builtins',
      severity: 'error',
      comment: 'src/core runs in browsers and web workers: no Node built-in modules (node:fs, path, …). Put file access in src/node.',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-no-node-only-packages',
      severity: 'error',
      comment: 'src/core runs in browsers and web workers: no Node-only npm packages.',
      from: { path: '^src/core/' },
      to: { path: NODE_ONLY_PACKAGES },
    },
    {
      name: 'app-not-to-node',
      severity: 'error',
      comment: 'The studio (src/app) runs in the browser: it never imports the Node front end (src/node, src/cli).',
      from: { path: '^src/app/' },
      to: { path: '^src/(node|cli)/' },
    },
    {
      name: 'workers-not-to-node',
      severity: 'error',
      comment: 'Web workers run in the browser: they never import the Node front end (src/node, src/cli) or the studio UI (src/app).',
      from: { path: '^workers/' },
      to: { path: '^src/(node|cli|app)/' },
    },
    {
      name: 'browser-no-node-builtins',
      severity: 'error',
      comment: 'src/app and workers/ run in the browser: no Node built-in modules or Node-only packages.',
      from: { path: '^(src/app|workers)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'browser-no-node-only-packages',
      severity: 'error',
      comment: 'src/app and workers/ run in the browser: no Node-only npm packages.',
      from: { path: '^(src/app|workers)/' },
      to: { path: NODE_ONLY_PACKAGES },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve would also escape the rules above.',
      from: { path: '^(src|workers|bench)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle or a layer breach through types is still one.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'browser', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.svelte', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    skipAnalysisNotInRules: true,
  },
};

// The `aaq` command line: `aaq eval` and `aaq quantize` (see README). A thin shell over the run
// pipeline of src/core/run/: it reads and writes files, prints progress and maps errors to exit codes.
import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AAQ_VERSION, summaryText, type RunReport } from '../core/report';
import { executeRun, runSanity } from '../core/run/execute';
import { findingText } from '../core/run/sanity';
import { DEFAULT_MEMORY_BYTES, MIN_MEMORY_BYTES } from '../core/run/memory';
import { resumePoint } from '../core/run/run-record';
import { QuantizeError } from '../core/types';
import { lockFolder } from '../node/folder-lock';
import { folderSnapshots } from '../node/resume';
import { prepareRun, type RunSetup, type RunSetupOptions } from '../node/run-setup';
import { ProgressPrinter } from './progress';

interface CommonOpts {
  model?: string;
  config: string;
  data?: string;
  engine: 'native' | 'wasm';
  batch: string;
  mode: 'auto' | 'calibrate' | 'switchable' | 'session-per-config';
  threads?: string;
  memory?: string;
  quiet?: boolean;
}

function setupOptions(o: CommonOpts): RunSetupOptions {
  const batch = Number(o.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new QuantizeError(`--batch ${o.batch}`, { expected: 'a positive integer' });
  const threads = o.threads === undefined ? undefined : Number(o.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new QuantizeError(`--threads ${o.threads}`, { expected: 'a positive integer' });
  const memory = o.memory === undefined ? undefined : Number(o.memory);
  if (memory !== undefined && (!Number.isFinite(memory) || memory * 2 ** 20 < MIN_MEMORY_BYTES)) {
    throw new QuantizeError(`--memory ${o.memory}`, { expected: `a number of MiB ≥ ${MIN_MEMORY_BYTES / 2 ** 20}` });
  }
  return {
    config: o.config,
    model: o.model,
    data: o.data,
    engine: o.engine,
    batch,
    mode: o.mode,
    threads,
    memoryBytes: memory === undefined ? undefined : Math.floor(memory * 2 ** 20),
  };
}

function warn(setup: RunSetup, quiet?: boolean): void {
  if (quiet) return;
  for (const w of setup.warnings) process.stderr.write(`warning: ${w}\n`);
}

/** Runs `f` on a prepared run and releases its sessions and engine, also when `f` fails. */
async function withSetup(o: CommonOpts, f: (setup: RunSetup) => Promise<void>): Promise<void> {
  const setup = await prepareRun(setupOptions(o));
  try {
    await f(setup);
  } finally {
    await setup.run.dispose();
  }
}

async function cmdEval(o: CommonOpts): Promise<void> {
  await withSetup(o, async (setup) => {
    warn(setup, o.quiet);
    const progress = new ProgressPrinter(process.stderr, { quiet: o.quiet });
    const r = await setup.backend.evaluate(null, null, (e) => progress.event(e));
    progress.end();
    // The checks of the FP32 metrics (at chance, collapsed predictions); the input range was said above.
    const sanity = runSanity(setup.run, r.metrics);
    const found = sanity.findings.slice(setup.sanity.length);
    if (!o.quiet) for (const f of found) process.stderr.write(`warning: ${findingText(f)}\n`);
    const out = { model: setup.modelPath, samples: setup.dataset.size, engine: setup.engine.backend, metrics: r.metrics, counts: setup.backend.counts(), sanity };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  });
}

interface QuantizeOpts extends CommonOpts {
  out: string;
  report?: string;
  resume?: string;
  snapshots?: string;
}

async function cmdQuantize(o: QuantizeOpts): Promise<void> {
  const t0 = performance.now();
  await withSetup(o, (setup) => quantizeWith(setup, o, t0));
}

async function quantizeWith(setup: RunSetup, o: QuantizeOpts, t0: number): Promise<void> {
  warn(setup, o.quiet);
  const aaq = setup.algorithm.name === 'AccuracyAwareQuantization';
  if (o.resume && !aaq) {
    throw new QuantizeError('--resume continues an AccuracyAwareQuantization run, but this config runs DefaultQuantization', {
      file: setup.configPath,
      field: 'compression.algorithms[0].name',
      expected: 'the config of the interrupted AAQ run',
    });
  }
  const progress = new ProgressPrinter(process.stderr, { quiet: o.quiet });
  const folder = aaq ? resolve(o.resume ?? o.snapshots ?? `${o.out}.run`) : undefined;
  const snapshots = folder ? folderSnapshots(folder, !!o.resume) : undefined;
  // One process per snapshot folder; a lock left by a process that is gone is taken over.
  const lock = folder ? lockFolder(folder, (m) => progress.log(m)) : undefined;
  try {
    const resume =
      snapshots && o.resume && setup.algorithm.name === 'AccuracyAwareQuantization'
        ? await resumePoint(snapshots, setup.fingerprints, setup.backend, setup.algorithm.params)
        : undefined;
    const { report, qdq } = await executeRun(setup.run, {
      snapshots,
      resume,
      modelPath: setup.modelPath,
      startedAt: t0,
      progress: (e) => progress.event(e),
      log: (m) => progress.log(m),
      warn: (m) => progress.log(`warning: ${m}`),
    });
    progress.end();
    writeOutputs(o, report, qdq);
  } finally {
    progress.end();
    lock?.release();
  }
}

function writeOutputs(o: QuantizeOpts, report: RunReport, qdq: Uint8Array): void {
  mkdirSync(dirname(resolve(o.out)), { recursive: true });
  writeFileSync(o.out, qdq);
  if (o.report) {
    mkdirSync(dirname(resolve(o.report)), { recursive: true });
    writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
  }
  process.stdout.write(summaryText(report) + '\n');
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('-c, --config <file>', 'POT config file (JSON with comments)')
    .option('-m, --model <file>', 'FP32 .onnx model (overrides model.model)')
    .option('-d, --data <path>', 'validation data: image folder, .npy or IDX file (overrides engine.dataset.data_source)')
    .addOption(new Option('-e, --engine <kind>', 'inference engine').choices(['native', 'wasm']).default('native'))
    .addOption(
      new Option('--mode <mode>', 'how candidate configurations are evaluated (auto: the faster on this engine, as measured by the bench; calibrate: measured at run start)')
        .choices(['auto', 'calibrate', 'switchable', 'session-per-config'])
        .default('auto'),
    )
    .option('-b, --batch <n>', 'batch size', '16')
    .option('--threads <n>', 'intra-op threads (native engine)')
    .option(
      '--memory <MiB>',
      `memory the run may keep for decoded samples and cached activations (default ${DEFAULT_MEMORY_BYTES / 2 ** 20}); past it samples are decoded again, results unchanged`,
    )
    .option('-q, --quiet', 'no progress on stderr');
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('aaq').version(AAQ_VERSION).description('Accuracy-aware INT8 post-training quantization of ONNX models (OpenVINO POT AccuracyAwareQuantization)');
  program.exitOverride();
  common(program.command('eval').description('evaluate the FP32 model on the configured data; prints the metrics as JSON')).action(cmdEval);
  common(program.command('quantize').description('run the configured algorithm and write a QDQ model and a report'))
    .requiredOption('-o, --out <file>', 'output QDQ .onnx model')
    .option('-r, --report <file>', 'JSON report')
    .option('--snapshots <dir>', 'where run snapshots go (default: <out>.run)')
    .option('--resume <dir>', 'continue the interrupted run whose snapshots are in <dir>')
    .action(cmdQuantize);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    // `aaq` without a command prints the help as an error (exit 1); --help and --version exit 0.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return err.exitCode ?? 0;
    if (err.code?.startsWith('commander.')) return err.exitCode ?? 2;
    // One line: messages quoting file contents or engine errors may hold line breaks.
    const line = (m: unknown) =>
      String(m)
        .replace(/\s*[\r\n]+\s*/g, ' ')
        .trim();
    if (err instanceof QuantizeError) process.stderr.write(`aaq: ${line(err.message)}\n`);
    else process.stderr.write(`aaq: internal error: ${line(err?.message ?? err)}\n${process.env.AAQ_DEBUG ? err?.stack + '\n' : ''}`);
    return err instanceof QuantizeError ? 1 : 2;
  }
}

// Run directly as `tsx src/cli/main.ts` (npm run aaq). The installed command is src/cli/bin.ts,
// built to dist-cli/aaq.mjs: matching its name here too ran the command twice at once, which
// printed every progress line twice.
const isMain = process.argv[1] && /(^|[\\/])main\.ts$/.test(process.argv[1]);
if (isMain) main(process.argv.slice(2)).then((code) => process.exit(code));

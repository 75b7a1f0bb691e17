// The parameter form, without running anything: the work-savings switches of
// AccuracyAwareQuantization are shown on by default (their default from the config schema), and
// unchecking one puts `false` into the config the run is started with (the exported config is
// app.configText(), the text runs.start() hands to the run worker). The evaluation mode select
// offers the CLI's four modes and shows up in the equivalent command.

import { expect, it } from 'vitest';
import { downloadBytes, openPage, useServedBrowser } from './helpers';

const env = useServedBrowser();

const SAVINGS = ['reuse_evaluations', 'early_stop', 'lazy_ranking', 'prefix_cache'] as const;

it('shows the work savings on by default and passes a change into the config', async () => {
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  await page.click('[data-testid="try-demo"]');
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.waitForFunction(() => !(document.querySelector('[data-testid="to-configure"]') as HTMLButtonElement).disabled);
  await page.click('[data-testid="to-configure"]');
  // Everything but the essentials is folded under Advanced.
  expect(await page.isVisible('[data-testid="section-savings"]')).toBe(false);
  await page.click('[data-testid="advanced"] > summary');

  const section = page.locator('[data-testid="section-savings"]');
  await section.waitFor();
  expect(await section.textContent()).toContain('Work savings');
  for (const k of SAVINGS) expect(await page.isChecked(`[data-testid="param-${k}"]`), k).toBe(true);

  await page.uncheck('[data-testid="param-prefix_cache"]');
  const config = JSON.parse((await downloadBytes(page, 'config-export')).toString('utf8')) as {
    compression: { algorithms: { name: string; params: Record<string, unknown> }[] };
  };
  const params = config.compression.algorithms[0].params;
  expect(config.compression.algorithms[0].name).toBe('AccuracyAwareQuantization');
  expect(params.prefix_cache).toBe(false);
  for (const k of SAVINGS.filter((k) => k !== 'prefix_cache')) expect(params[k], k).toBe(true);

  // Evaluation mode: auto by default (no --mode in the command), calibrate as the CLI's flag.
  expect(await page.inputValue('[data-testid="eval-mode"]')).toBe('auto');
  expect(await page.textContent('[data-testid="cli-command"]')).not.toContain('--mode');
  await page.selectOption('[data-testid="eval-mode"]', 'calibrate');
  expect(await page.textContent('[data-testid="cli-command"]')).toContain('--mode calibrate');

  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 180_000);

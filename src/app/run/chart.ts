// chart.js with only the pieces we draw (tree-shaken), animations off: updates arrive after every
// step and must never cost the main thread more than a few milliseconds.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, Filler);
Chart.defaults.animation = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = '#5d6679';
Chart.defaults.maintainAspectRatio = false;

/** chart.js's first chart pays one-time costs (~100 ms on a slow CPU: controllers, fonts, text
 *  metrics). Pay them once while the page is idle after loading, not in the middle of a run. */
export function warmUpCharts(): void {
  const run = () => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 160;
    const line = new Chart(canvas, {
      type: 'line',
      data: { labels: ['a', 'b'], datasets: [{ label: 'x', data: [1, 2] }] },
      options: { responsive: false, plugins: { legend: { position: 'bottom' } }, scales: { x: { title: { display: true, text: 't' } } } },
    });
    line.destroy();
    const bar = new Chart(canvas, { type: 'bar', data: { labels: ['a'], datasets: [{ label: 'y', data: [1] }] }, options: { responsive: false, indexAxis: 'y' } });
    bar.destroy();
  };
  const ric = (globalThis as { requestIdleCallback?: (f: () => void, o?: { timeout: number }) => number }).requestIdleCallback;
  if (ric) ric(run, { timeout: 3000 });
  else setTimeout(run, 500);
}

/** Svelte action: a chart on a canvas, updated in place when its config changes. */
export function chart<T extends ChartType>(canvas: HTMLCanvasElement, config: ChartConfiguration<T>) {
  // Created in a task of its own, after the screen around it has rendered.
  let c: Chart<T> | undefined;
  let latest = config;
  let destroyed = false;
  const timer = setTimeout(() => {
    if (!destroyed) c = new Chart(canvas, latest);
  }, 0);
  return {
    update(next: ChartConfiguration<T>) {
      latest = next;
      if (!c) return;
      c.data = next.data;
      if (next.options) c.options = next.options;
      c.update('none');
    },
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      c?.destroy();
    },
  };
}

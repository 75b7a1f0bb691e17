// chart.js with only the pieces we draw (tree-shaken), animations off: updates arrive after every
// step and must never cost the main thread more than a few milliseconds.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartConfiguration, type ChartType,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, Filler);
Chart.defaults.animation = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = '#5d6679';
Chart.defaults.maintainAspectRatio = false;

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

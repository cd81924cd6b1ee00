/**
 * Chart.js, only the parts the dashboard draws (bars and lines), registered once: the supervisor page is the only
 * one that loads it. Animation off: the numbers are there at once, and cheap screens are spared.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip,
);
Chart.defaults.font.family = 'system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
Chart.defaults.color = '#1d2733';

export const PALETTE = ['#b3141b', '#124f8c', '#116b35', '#8a4b00', '#5b3f99', '#00707a'];

/** A chart on a canvas; the caller gives a text alternative (a table next to it carries the same numbers). */
export function ChartView(props: { config: ChartConfiguration; label: string; id?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | undefined>(undefined);
  useEffect(() => {
    if (!canvas.current) return;
    const config = {
      ...props.config,
      options: { animation: false, responsive: true, maintainAspectRatio: false, ...props.config.options },
    } as ChartConfiguration;
    if (chart.current) {
      chart.current.data = config.data;
      chart.current.options = config.options ?? {};
      chart.current.update();
    } else {
      chart.current = new Chart(canvas.current, config);
    }
  }, [props.config]);
  useEffect(
    () => () => {
      chart.current?.destroy();
      chart.current = undefined;
    },
    [],
  );
  return h(
    'div',
    { class: 'chart' },
    h('canvas', { ref: canvas, role: 'img', 'aria-label': props.label, ...(props.id ? { id: props.id } : {}) }),
  );
}

import { BarChart } from '@mantine/charts';
import type { UsageSeries } from './api';
import { usd } from './format';

/** Enough colours for the top groups and "Other", each readable on light and dark backgrounds. */
const PALETTE = ['indigo.6', 'teal.6', 'orange.6', 'grape.6', 'cyan.6', 'lime.7', 'gray.6'];
const OTHER = 'Other';

/**
 * Cost per bucket of a usage time series, stacked by group: the `maxGroups` costliest groups
 * by name and the rest as "Other", so a busy organisation still reads as a handful of colours.
 */
export function SeriesChart({
  series,
  nameOf,
  title,
  maxGroups = 6,
  height = 220,
}: {
  series: UsageSeries;
  nameOf: (group: string | null) => string;
  title: string;
  maxGroups?: number;
  height?: number;
}) {
  const costByGroup = new Map<string | null, number>();
  for (const row of series.rows) costByGroup.set(row.group, (costByGroup.get(row.group) ?? 0) + row.costUsd);
  const ranked = [...costByGroup.entries()].sort((a, b) => b[1] - a[1]);
  const shown = ranked.slice(0, maxGroups).map(([group]) => group);
  const seriesName = (group: string | null) => (shown.includes(group) ? nameOf(group) : OTHER);
  const names = [...new Set([...shown.map(nameOf), ...(ranked.length > maxGroups ? [OTHER] : [])])];

  const label = bucketLabel(series.interval);
  const points = series.buckets.map((bucket) => {
    const point: Record<string, string | number> = { bucket: label(bucket) };
    for (const name of names) point[name] = 0;
    return point;
  });
  const indexOf = new Map(series.buckets.map((bucket, index) => [bucket, index]));
  for (const row of series.rows) {
    const point = points[indexOf.get(row.bucket) ?? -1];
    const name = seriesName(row.group);
    if (point) point[name] = Number(point[name] ?? 0) + row.costUsd;
  }
  const summary = ranked.map(([group, cost]) => `${nameOf(group)} ${usd(cost)}`).join(', ');
  return (
    <BarChart
      h={height}
      role="img"
      aria-label={`${title}: ${summary || 'no spend'}`}
      data={points}
      dataKey="bucket"
      type="stacked"
      series={names.map((name, index) => ({
        name,
        color: PALETTE[Math.min(index, PALETTE.length - 1)] ?? 'gray.6',
      }))}
      valueFormatter={usd}
      withLegend={names.length > 1}
      legendProps={{ verticalAlign: 'bottom' }}
      tickLine="none"
    />
  );
}

/** "2 Dec" for days, "14:00" for hours, in the browser's time zone. */
function bucketLabel(interval: UsageSeries['interval']): (iso: string) => string {
  const format = new Intl.DateTimeFormat(
    undefined,
    interval === 'hour' ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short' },
  );
  return (iso) => format.format(new Date(iso));
}

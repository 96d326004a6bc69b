/**
 * Figures and the table they end in. A figure is the median of its runs with the spread
 * (lowest to highest, as a share of the median) kept beside it; a row divides a parkd
 * figure by the ceiling measured in the same run and says whether the target holds.
 */

export type Figure = { median: number; low: number; high: number; unit: string }

export function figure(samples: readonly number[], unit: string): Figure {
  const sorted = [...samples].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
  return {
    median,
    low: sorted[0] ?? Number.NaN,
    high: sorted[sorted.length - 1] ?? Number.NaN,
    unit,
  }
}

/** Runs `measure` `runs` times in a row and keeps every sample. */
export async function sampled(runs: number, measure: () => Promise<number>): Promise<number[]> {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) samples.push(await measure())
  return samples
}

function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`
  return value >= 100 ? value.toFixed(0) : value.toFixed(1)
}

export function show(f: Figure): string {
  const spread = f.median > 0 ? ((f.high - f.low) / f.median) * 100 : 0
  const text = `${compact(f.median)} ${f.unit}`
  return spread >= 0.5 ? `${text} ±${(spread / 2).toFixed(0)}%` : text
}

export const MB = 1024 * 1024

export type Row = {
  what: string
  parkd: string
  ceiling: string
  /** parkd / ceiling, or for memory the peak in MB. */
  ratio: string
  target: string
  /** Undefined where the row only informs. */
  pass: boolean | undefined
}

/** A row of a throughput against its ceiling, with `target` the least ratio to reach. */
export function ratioRow(what: string, parkd: Figure, ceiling: Figure, target?: number): Row {
  const ratio = parkd.median / ceiling.median
  return {
    what,
    parkd: show(parkd),
    ceiling: show(ceiling),
    ratio: ratio.toFixed(2),
    target: target === undefined ? '' : `>= ${target}`,
    pass: target === undefined ? undefined : ratio >= target,
  }
}

/** A row of a peak resident size against its limit in MB. */
export function memoryRow(what: string, peakBytes: number, limitMb: number): Row {
  const peakMb = peakBytes / MB
  return {
    what,
    parkd: `${peakMb.toFixed(0)} MB peak RSS`,
    ceiling: '',
    ratio: '',
    target: `<= ${limitMb} MB`,
    pass: peakMb <= limitMb,
  }
}

/** A row that only informs: a peer's figure, or one no target speaks of. */
export function infoRow(what: string, value: Figure | string): Row {
  const parkd = typeof value === 'string' ? value : show(value)
  return { what, parkd, ceiling: '', ratio: '', target: '', pass: undefined }
}

export function render(rows: readonly Row[], verdicts: boolean): string {
  const header = ['measure', 'parkd', 'ceiling (same run)', 'ratio', 'target', 'verdict']
  const verdict = (row: Row) => {
    if (row.pass === undefined) return ''
    if (!verdicts) return '(quick: none)'
    return row.pass ? 'met' : 'MISSED'
  }
  const cells = rows.map((r) => [r.what, r.parkd, r.ceiling, r.ratio, r.target, verdict(r)])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)))
  const line = (c: readonly string[]) =>
    `| ${c.map((text, i) => text.padEnd(widths[i] ?? 0)).join(' | ')} |`
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`
  return [line(header), rule, ...cells.map(line)].join('\n')
}

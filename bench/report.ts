// The benchmark table and its JSON twin. Every bench module returns BenchRow[]; this file
// prints them side by side and writes .bench-out/results.json.
import fs from 'node:fs'
import path from 'node:path'

export type Status = 'PASS' | 'MISSED' | 'INFO' | 'ERROR' | 'SKIPPED'

/**
 * One line of the table: nsnet against one peer on the same work.
 * Values are medians; `unit` says what they are (ms by default).
 */
export interface BenchRow {
  /** Which bench module: routes, netns, topology... */
  readonly section: string
  /** The work, e.g. `insert 100,000 IPv4 routes`. */
  readonly measurement: string
  /** What nsnet ran, e.g. `routes.addMany`. */
  readonly nsnet: string
  readonly nsnetValue: number | null
  readonly peer?: string
  readonly peerValue?: number | null
  readonly unit?: 'ms' | 'MiB'
  /** nsnetValue / peerValue. */
  readonly ratio?: number | null
  /** Highest ratio that passes. */
  readonly target?: number
  readonly status: Status
  /** Footnote: sampling, scaling, how it was timed, why it was skipped or failed. */
  readonly note?: string
  /** Every run's value, for the JSON. */
  readonly samples?: { readonly nsnet?: readonly number[]; readonly peer?: readonly number[] }
}

/** What a bench module (netns.ts, topology.ts) returns; run.ts adds the section and the verdict. */
export interface ModuleRow extends Omit<BenchRow, 'section' | 'status'> {
  /** Short label of the row inside its module. */
  readonly name: string
  readonly status?: 'INFO' | 'SKIPPED' | 'ERROR'
}

/** Builds a row from medians, computing ratio and PASS/MISSED. */
export function compare(r: Omit<BenchRow, 'ratio' | 'status'> & { status?: Status }): BenchRow {
  const ok = r.nsnetValue != null && r.peerValue != null && r.peerValue > 0
  const ratio = ok ? r.nsnetValue! / r.peerValue! : null
  let status: Status = r.status ?? 'INFO'
  if (!r.status && ratio != null && r.target != null) status = ratio <= r.target ? 'PASS' : 'MISSED'
  if (!r.status && (r.nsnetValue == null || (r.peer && r.peerValue == null))) status = 'ERROR'
  return { ...r, ratio, status }
}

/**
 * Accepts rows from other bench modules leniently (`nsnetMs`/`peerMs` work as well as
 * `nsnetValue`/`peerValue`), so a module written against an older shape still prints.
 */
export function normaliseRows(section: string, value: unknown): BenchRow[] {
  const list = Array.isArray(value) ? value : (value as { rows?: unknown })?.rows
  if (!Array.isArray(list)) {
    return [
      {
        section,
        measurement: `${section} benchmark`,
        nsnet: '?',
        nsnetValue: null,
        status: 'ERROR',
        note: `returned ${JSON.stringify(value)?.slice(0, 200)} instead of rows`,
      },
    ]
  }
  return list.map((x: Record<string, unknown>) => {
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)
    const nsnetValue = num(x.nsnetValue ?? x.nsnetMs ?? x.nsnet_ms)
    const peerValue = x.peer === undefined && x.peerValue === undefined && x.peerMs === undefined ? undefined : num(x.peerValue ?? x.peerMs)
    const row = {
      section: String(x.section ?? section),
      measurement: String(x.measurement ?? x.name ?? '?'),
      nsnet: String(x.nsnet && typeof x.nsnet === 'string' ? x.nsnet : 'nsnet'),
      nsnetValue,
      peer: x.peer === undefined ? undefined : String(x.peer),
      peerValue,
      unit: x.unit === 'MiB' ? ('MiB' as const) : ('ms' as const),
      target: num(x.target) ?? undefined,
      note: x.note === undefined ? undefined : String(x.note),
      samples: x.samples as BenchRow['samples'],
      status: (['PASS', 'MISSED', 'INFO', 'ERROR', 'SKIPPED'] as const).find((s) => s === x.status),
    }
    return compare(row)
  })
}

function fmt(v: number | null | undefined, unit: 'ms' | 'MiB' = 'ms'): string {
  if (v == null) return 'n/a'
  if (unit === 'MiB') return `${v.toFixed(1)} MiB`
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`
  return `${v.toFixed(v < 10 ? 2 : 0)} ms`
}

function fmtRatio(r: number | null | undefined): string {
  if (r == null) return 'n/a'
  return r < 0.1 ? `${r.toFixed(3)}x` : `${r.toFixed(2)}x`
}

/** The table as text lines, with numbered footnotes. */
export function renderTable(rows: readonly BenchRow[]): string {
  const head = ['measurement', 'nsnet', 'nsnet time', 'peer', 'peer time', 'ratio', 'target', 'result']
  const notes: string[] = []
  const body = rows.map((r) => {
    let measurement = r.measurement
    if (r.note) {
      let i = notes.indexOf(r.note)
      if (i < 0) i = notes.push(r.note) - 1
      measurement += ` [${i + 1}]`
    }
    const result = r.status === 'MISSED' ? '*** MISSED ***' : r.status
    return [
      measurement,
      r.nsnet,
      fmt(r.nsnetValue, r.unit),
      r.peer ?? '-',
      r.peer ? fmt(r.peerValue, r.unit) : '-',
      r.peer ? fmtRatio(r.ratio) : '-',
      r.target != null ? `<= ${r.target}x` : '-',
      result,
    ]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const right = new Set([2, 4, 5, 6]) // numbers line up on the right
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')]
  let section: string | undefined
  for (let i = 0; i < rows.length; i++) {
    if (section !== undefined && rows[i]!.section !== section) out.push('')
    section = rows[i]!.section
    out.push(line(body[i]!))
  }
  if (notes.length) {
    out.push('')
    notes.forEach((n, i) => out.push(`[${i + 1}] ${n}`))
  }
  return out.join('\n')
}

/** A closing summary: every missed target and error, spelled out. */
export function renderVerdict(rows: readonly BenchRow[]): string {
  const missed = rows.filter((r) => r.status === 'MISSED')
  const errors = rows.filter((r) => r.status === 'ERROR')
  const targets = rows.filter((r) => r.target != null)
  const lines: string[] = []
  for (const r of missed) {
    lines.push(
      `MISSED: ${r.measurement}: nsnet ${fmt(r.nsnetValue, r.unit)} vs ${r.peer} ${fmt(r.peerValue, r.unit)} = ${fmtRatio(r.ratio)} (target <= ${r.target}x)`,
    )
  }
  for (const r of errors) lines.push(`ERROR: ${r.measurement} (${r.nsnet}${r.peer ? ` vs ${r.peer}` : ''}): ${r.note ?? 'failed'}`)
  const passed = targets.filter((r) => r.status === 'PASS').length
  lines.push(
    `targets: ${passed} of ${targets.length} met${missed.length ? `, ${missed.length} MISSED` : ''}${errors.length ? `; ${errors.length} error(s)` : ''}`,
  )
  return lines.join('\n')
}

export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
}

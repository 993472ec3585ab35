/**
 * Markdown tables of scenario results: one summary row per scenario, and per scenario a table
 * with the three sides as columns. `npm run compare` prints them; docs/lww-vs-ymap.md embeds them.
 */
import type { JsonValue } from '../lww/json-value.js'
import type { ScenarioResult, SideResult } from './run-scenario.js'

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

const row = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`

const table = (header: string[], rows: string[][]): string =>
  [row(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(row)].join('\n')

const yesNo = (value: boolean): string => value ? 'yes' : '**no**'

const focusKeys = (result: ScenarioResult): string[] => {
  if (result.scenario.focusKeys !== undefined) return result.scenario.focusKeys
  const keys = [...new Set(result.writes.map((w) => w.key))]
  return keys.length <= 4 ? keys : []
}

const finalValue = (side: SideResult, key: string, firstReplica: string): string => {
  const value: JsonValue | undefined = side.values[firstReplica]?.[key]
  const contest = side.contests.find((c) => c.key === key)
  const by = contest?.winner != null ? ` (${contest.winner.replica})` : ''
  return value === undefined ? `absent${by}` : `${JSON.stringify(value)}${by}`
}

const traffic = (side: SideResult): string => `${side.traffic.bytes.toLocaleString('en-US')} B in ${side.traffic.messages} messages`

const metadata = (side: SideResult): string => {
  const parts = [`state ${side.metadata.stateBytes.toLocaleString('en-US')} B`, `${side.metadata.tombstones} tombstone${side.metadata.tombstones === 1 ? '' : 's'}`]
  if (side.metadata.stateVectorBytes !== undefined) parts.push(`state vector ${side.metadata.stateVectorBytes} B`)
  return parts.join(', ')
}

const differs = (result: ScenarioResult, side: SideResult): string => {
  if (side.side === 'ymap') return '—'
  const keys = result.differsFromYMap[side.side]
  if (keys.length === 0) return 'none'
  return keys.length <= 4 ? keys.map((k) => `\`${k}\``).join(', ') : `${keys.length} of ${new Set(result.writes.map((w) => w.key)).size} keys`
}

/** The table of one scenario: what each side ended with, why, and at what cost. */
export const scenarioTable = (result: ScenarioResult): string => {
  const firstReplica = result.scenario.replicas[0]!.id
  const rows: string[][] = [['converged', ...result.sides.map((s) => yesNo(s.converged))]]
  for (const key of focusKeys(result)) {
    rows.push([`final \`${key}\``, ...result.sides.map((s) => finalValue(s, key, firstReplica))])
    const contested = result.sides.some((s) => s.contests.some((c) => c.key === key))
    if (contested) rows.push([`why \`${key}\``, ...result.sides.map((s) => s.contests.find((c) => c.key === key)?.why ?? '—')])
  }
  rows.push(['keys that differ from Y.Map', ...result.sides.map((s) => differs(result, s))])
  rows.push(['causally later writes lost', ...result.sides.map((s) => String(s.causallyLaterLost))])
  rows.push(['on the wire', ...result.sides.map(traffic)])
  rows.push(['kept to merge', ...result.sides.map(metadata)])
  return table(['', ...result.sides.map((s) => s.label)], rows)
}

/** One row per scenario. */
export const summaryTable = (results: ScenarioResult[]): string => table(
  ['scenario', 'LWW wall clock = Y.Map?', 'LWW HLC = Y.Map?', 'causally later writes lost (wall / HLC / Y.Map)', 'bytes (wall / HLC / Y.Map)'],
  results.map((r) => {
    const [wall, hlc, ymap] = r.sides as [SideResult, SideResult, SideResult]
    const same = (keys: string[]): string => keys.length === 0 ? 'yes' : `no (${keys.length} key${keys.length === 1 ? '' : 's'})`
    return [
      r.scenario.title,
      same(r.differsFromYMap['lww-wall']),
      same(r.differsFromYMap['lww-hlc']),
      `${wall.causallyLaterLost} / ${hlc.causallyLaterLost} / ${ymap.causallyLaterLost}`,
      [wall, hlc, ymap].map((s) => s.traffic.bytes.toLocaleString('en-US')).join(' / ')
    ]
  })
)

/** A scenario's heading, question and table. */
export const scenarioSection = (result: ScenarioResult): string =>
  [`### ${result.scenario.title} (\`${result.scenario.id}\`)`, '', `> ${result.scenario.question}`, '', scenarioTable(result)].join('\n')

/** The notes printed under every table: what is counted and how. */
export const notes = [
  'Bytes are payloads as counted by the in-memory network; Trystero adds 103 bytes of framing per message. The room channel (which peer has which document open), shared by the three, is not counted.',
  'LWW sides are `DeltaSyncedLWWMap`s (a write sends only the changed entry; a joining peer gets the whole state); the Y.Map side is a Y.Doc synced by `TrysteroProvider`.',
  '"Causally later writes lost": writes that lost to a write their replica had already received when it made them (a delete is not counted when the key ends up deleted anyway).',
  '"Tombstones": deleted keys an LWW map must remember; for Y.Map, the deleted items it keeps (every overwritten or deleted value: their content is dropped, their ids stay).'
]

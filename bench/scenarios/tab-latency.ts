/**
 * Tab-to-tab latency (issue 13 item 6): two tabs of one Chromium context (one origin), signaling
 * unreachable, so that the BroadcastChannel is the only path. An edit in one tab until it is seen
 * in the other, as half a round trip (tab A inserts a character; tab B, seeing it, answers with
 * one; A times the answer): no clock is shared between tabs. Ours (src/, served by Vite) against
 * y-webrtc, same browser, same page, same run.
 */
import { fileURLToPath } from 'node:url'
import { createServer } from 'vite'
import type { Browser, Page } from 'playwright-core'
import { canRunBrowser, launchChromium } from '../../test/support/browser.js'
import { median, reason, type Table } from '../support/report.js'

export interface TabLatencyRow {
  contender: 'ours' | 'y-webrtc'
  /** `private`: with a password, so that both encrypt what crosses the BroadcastChannel. */
  room: 'open' | 'private'
  runs: number
  edits: number
  /** Per run: the median one-way time (half the round trip), ms. */
  oneWayMs: number[]
  /** Every round trip of every run, ms. */
  rttMs: number[]
  failureReasons: string[]
}

export interface TabLatencyOptions {
  runs: number
  /** Measured edits per run (after `warmUp` unmeasured ones). */
  edits: number
  warmUp?: number
  timeoutMs?: number
}

const root = fileURLToPath(new URL('../../', import.meta.url))

export const runTabLatency = async (options: TabLatencyOptions): Promise<TabLatencyRow[]> => {
  if (!canRunBrowser) throw new Error('no Chromium (set CHROMIUM_PATH)')
  const { runs, edits, warmUp = 20, timeoutMs = 30_000 } = options
  const server = await createServer({ root, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } })
  await server.listen()
  const url = `${server.resolvedUrls!.local[0]!}bench/harness/tab-latency-page.html`
  let browser: Browser | null = null
  const rows: TabLatencyRow[] = []
  try {
    browser = await launchChromium()
    for (const [room, contender] of (['open', 'private'] as const).flatMap((r) => (['ours', 'y-webrtc'] as const).map((c) => [r, c] as const))) {
      const row: TabLatencyRow = { contender, room, runs, edits, oneWayMs: [], rttMs: [], failureReasons: [] }
      rows.push(row)
      for (let run = 0; run < runs; run++) {
        const context = await browser.newContext()
        try {
          const tab = async (): Promise<Page> => {
            const page = await context.newPage()
            await page.goto(url)
            await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: timeoutMs })
            return page
          }
          const roomId = `tab-latency-${contender}-${room}-${Date.now()}-${run}`
          const password = room === 'private' ? 'tab latency' : null
          const [a, b] = [await tab(), await tab()]
          for (const page of [a, b]) await page.evaluate((args) => (window as any).bench.start(args), { contender, roomId, password })
          for (const page of [a, b]) await page.waitForFunction(() => (window as any).bench.connected(), undefined, { timeout: timeoutMs })
          await b.evaluate(() => (window as any).bench.echo())
          await a.bringToFront()
          await a.evaluate(async (n) => await (window as any).bench.pings(n), warmUp)
          const rtts = await a.evaluate(async (n) => await (window as any).bench.pings(n) as number[], edits)
          row.rttMs.push(...rtts)
          row.oneWayMs.push(median(rtts) / 2)
          for (const page of [a, b]) await page.evaluate(() => (window as any).bench.destroy())
        } catch (error) {
          row.failureReasons.push(reason(error))
        } finally {
          await context.close()
        }
      }
    }
  } finally {
    await browser?.close()
    await server.close()
  }
  return rows
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** For bench/results/tab-latency.json: the round trips as counts and quantiles, not every one. */
export const tabLatencySummary = (rows: TabLatencyRow[]): unknown[] => rows.map(({ rttMs, ...row }) => ({
  ...row,
  rttMs: rttMs.length === 0 ? null : { count: rttMs.length, p50: quantile(rttMs, 0.5), p90: quantile(rttMs, 0.9), p99: quantile(rttMs, 0.99), max: Math.max(...rttMs) }
}))

export const tabLatencyTable = (rows: TabLatencyRow[]): Table => ({
  title: 'Tab to tab over the BroadcastChannel (Chromium, two tabs of one context, signaling unreachable)',
  columns: ['provider', 'room', 'runs ok', 'edits per run', 'one way, median of runs (ms)', 'min–max of runs (ms)', 'round trip p50 / p90 / p99 (ms)'],
  rows: rows.map((row) => {
    const ok = row.oneWayMs.length
    return [row.contender, row.room, `${ok}/${row.runs}`, row.edits,
      ok === 0 ? null : median(row.oneWayMs),
      ok === 0 ? null : `${Math.min(...row.oneWayMs).toFixed(3)}–${Math.max(...row.oneWayMs).toFixed(3)}`,
      ok === 0 ? null : `${quantile(row.rttMs, 0.5).toFixed(3)} / ${quantile(row.rttMs, 0.9).toFixed(3)} / ${quantile(row.rttMs, 0.99).toFixed(3)}`]
  }),
  notes: [
    'One way = half the round trip: tab A inserts a character, tab B answers each remote one with its own, A times the answer (no clock shared between tabs); a warm-up of 20 round trips is not counted.',
    'Ours is src/ at this commit served by Vite\'s dev server (not the built package); y-webrtc is the devDependency. Open rooms go in the clear; private ones (a password) are AES-GCM-encrypted by both, each with a key derived from the password. Both signaling URLs point at a closed port.',
    'Chromium\'s performance.now() in a page that is not cross-origin isolated is coarsened to 0.1 ms: every round trip is a multiple of it, so one-way medians are multiples of 0.05 ms.',
    ...rows.filter((row) => row.failureReasons.length > 0).map((row) => `failed runs, ${row.contender} (${row.room}): ${[...new Set(row.failureReasons)].join('; ')}`)
  ]
})

/** A tiny run of the coalescing benchmark, so it cannot rot. Asserts shape and correctness, never time. */
import { describe, expect, it } from 'vitest'
import { coalescingTable, runCoalescing } from '../../bench/coalescing.js'
import { generateEditedDocument } from '../../bench/support/editing-traces.js'
import { toMarkdown } from '../../bench/support/report.js'

describe('bench: coalescing (smoke)', () => {
  it('runs, and our message brings a replica to the same state', () => {
    const result = runCoalescing({ burstSizes: [1, 300], repeats: 1, doc: { doc: generateEditedDocument(2000), source: 'smoke' } })
    expect(result.rows.map((r) => r.updates)).toEqual([1, 300])
    expect(result.rows.every((r) => r.oursCorrect)).toBe(true)
    expect(result.rows[0]!.ours.bytes).toBe(result.rows[0]!.flat.bytes)
    expect(toMarkdown(coalescingTable(result, 1))).toContain('| 300 |')
  })
})

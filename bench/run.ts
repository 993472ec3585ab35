/**
 * `npm run bench [-- name ...]`: runs the benchmarks, prints markdown tables, writes JSON to
 * bench/results/. Benchmarks are measurements, not tests: nothing here passes or fails.
 */
import { coalescingTable, runCoalescing } from './coalescing.js'
import { traceCredit } from './support/editing-traces.js'
import { toMarkdown, writeResults } from './support/report.js'

const benches: Record<string, () => Promise<void> | void> = {
  coalescing: () => {
    const repeats = 7
    const result = runCoalescing({ burstSizes: [1, 10, 100, 256, 257, 1000, 5000], repeats })
    console.log(toMarkdown(coalescingTable(result, repeats)))
    console.log(`\nJSON: ${writeResults('coalescing', result)}`)
  }
}

const requested = process.argv.slice(2)
const names = requested.length > 0 ? requested : Object.keys(benches)
for (const name of names) {
  const bench = benches[name]
  if (!bench) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; known: ${Object.keys(benches).join(', ')}`)
    process.exit(2)
  }
  await bench()
  console.log('')
}
console.log(`Data: ${traceCredit}.`)

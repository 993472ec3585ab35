/**
 * What an attack costs the process it runs in, over a window: how long its main thread was kept
 * from its event loop (`perf_hooks.monitorEventLoopDelay`) and the highest RSS reached.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

export interface StallReading {
  /** The longest the event loop was held, ms. */
  maxDelayMs: number
  /** The 99th percentile of the event loop's delay, ms. */
  p99DelayMs: number
  /** The highest RSS in the window, bytes. */
  peakRss: number
  /** The highest V8 heap in use and ArrayBuffer memory seen in the window, bytes (sampled: where the RSS went). */
  peakHeapUsed: number
  peakArrayBuffers: number
}

/** Event loop delay is sampled every this many ms (the histogram's resolution). */
const resolutionMs = 10
/** Memory is read this often; a busy main thread reads it late, so the process's own maximum RSS is read too. */
const sampleEveryMs = 20

export class StallGauge {
  private histogram: IntervalHistogram | null = null
  private sampler: ReturnType<typeof setInterval> | null = null
  private peakRss = 0
  private peakHeapUsed = 0
  private peakArrayBuffers = 0
  private maxRssAtStart = 0

  start (): void {
    this.stop()
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs })
    this.histogram.enable()
    this.peakRss = this.peakHeapUsed = this.peakArrayBuffers = 0
    this.sample()
    this.maxRssAtStart = process.resourceUsage().maxRSS
    this.sampler = setInterval(() => this.sample(), sampleEveryMs)
  }

  private sample (): void {
    const { rss, heapUsed, arrayBuffers } = process.memoryUsage()
    this.peakRss = Math.max(this.peakRss, rss)
    this.peakHeapUsed = Math.max(this.peakHeapUsed, heapUsed)
    this.peakArrayBuffers = Math.max(this.peakArrayBuffers, arrayBuffers)
  }

  /** Ends the window and reads it. */
  stop (): StallReading {
    const histogram = this.histogram
    if (this.sampler !== null) clearInterval(this.sampler)
    this.sampler = null
    this.histogram = null
    if (histogram === null) return { maxDelayMs: 0, p99DelayMs: 0, peakRss: 0, peakHeapUsed: 0, peakArrayBuffers: 0 }
    histogram.disable()
    this.sample()
    // The process's lifetime maximum (KiB) counts only if it rose during the window: a peak
    // between two readings of a busy thread.
    const maxRss = process.resourceUsage().maxRSS
    const peakRss = Math.max(this.peakRss, maxRss > this.maxRssAtStart ? maxRss * 1024 : 0)
    return { maxDelayMs: histogram.max / 1e6, p99DelayMs: histogram.percentile(99) / 1e6, peakRss, peakHeapUsed: this.peakHeapUsed, peakArrayBuffers: this.peakArrayBuffers }
  }
}

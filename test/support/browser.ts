/**
 * Real Chromium (Debian's, driven by playwright-core) against the demo, with the flags and the
 * camera/microphone permission that make WebRTC offer plain 127.0.0.1 candidates on a machine
 * without a network (with the permission, Chromium offers 127.0.0.1 candidates instead of mDNS
 * names). Each page gets its own browser context, hence its own IndexedDB: two pages are two
 * users, not two tabs of one.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
/** Without Chromium the browser tests skip, except in CI (`.ci/run` installs it and sets CI). */
export const canRunBrowser = existsSync(chromiumPath) || process.env['CI'] !== undefined
if (!canRunBrowser) console.warn(`Chromium not found at ${chromiumPath}: the demo's browser tests are skipped (apt-get install chromium, or set CHROMIUM_PATH; .ci/run installs it)`)

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection']

export const launchChromium = async (): Promise<Browser> => await chromium.launch({ executablePath: chromiumPath, args: flags })

export interface DemoPage {
  name: string
  page: Page
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[]
}

const screenshotDirectory = fileURLToPath(new URL('../../test-results/', import.meta.url))

/** Opens `url` in a new context, as user `name`. */
export interface OpenOptions {
  viewport?: { width: number, height: number }
  /** Runs before the first navigation (to listen from the first request on). */
  beforeGoto?: (page: Page) => void
}

export const openPage = async (browser: Browser, url: string, name: string, options: OpenOptions = {}): Promise<DemoPage> => {
  const context = await browser.newContext(options.viewport === undefined ? {} : { viewport: options.viewport })
  await context.grantPermissions(['camera', 'microphone'], { origin: new URL(url).origin })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`console: ${message.text()}`) })
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
  options.beforeGoto?.(page)
  await page.goto(url)
  return { name, page, errors }
}

/**
 * Saves a full-page screenshot of every page into test-results/ (call from `afterEach` when the
 * test failed, before the pages close). Returns the files written.
 */
export const screenshotAll = async (pages: DemoPage[], testName: string): Promise<string[]> => {
  mkdirSync(screenshotDirectory, { recursive: true })
  const prefix = testName.replace(/[^\w-]+/g, '_').slice(0, 80)
  const files: string[] = []
  for (const { name, page } of pages) {
    const file = `${screenshotDirectory}${prefix}-${name}.png`
    await page.screenshot({ path: file, fullPage: true })
    files.push(file)
  }
  return files
}

/** Focuses a page first: a background tab is throttled (notes: ~2 s per click). */
export const front = async ({ page }: DemoPage): Promise<Page> => {
  await page.bringToFront()
  return page
}

export type EditorName = 'codemirror' | 'tiptap' | 'quill'

/**
 * Where each editor of the demo puts its text, the other users' carets (`caret`; `inText`: the
 * part of them inside the text, which `textContent` would read) and their names.
 */
export const editorParts: Record<EditorName, { content: string, caret: string, label: string, inText: string | null }> = {
  codemirror: { content: '.cm-content', caret: '.cm-ySelectionCaret', label: '.cm-ySelectionInfo', inText: '.cm-ySelectionCaret, .cm-widgetBuffer' },
  tiptap: { content: '.tiptap-content', caret: '.collaboration-carets__caret', label: '.collaboration-carets__label', inText: '.collaboration-carets__caret' },
  quill: { content: '.ql-editor', caret: '.ql-cursor:not(.hidden)', label: '.ql-cursor:not(.hidden) .ql-cursor-name', inText: null }
}

/** Waits until the page's editor shows `text` (carets and names left out). */
export const waitForEditorText = async ({ page }: DemoPage, editor: EditorName, text: string, timeout = 30_000): Promise<void> => {
  const { content, inText } = editorParts[editor]
  await page.waitForFunction(([selector, carets, t]) => {
    const clone = document.querySelector(selector!)?.cloneNode(true) as HTMLElement | undefined
    if (clone === undefined) return false
    if (carets !== null) for (const caret of clone.querySelectorAll(carets!)) caret.remove()
    return clone.textContent!.includes(t!)
  }, [content, inText, text] as const, { timeout })
}

/**
 * The document's text as the page's editor shows it, one line per line or paragraph, without the
 * other users' carets and name labels.
 */
export const editorText = async ({ page }: DemoPage): Promise<string> => await page.evaluate(() => {
  const host = document.querySelector<HTMLElement>('#editor')!
  const editor = host.dataset['editor']
  if (editor === 'codemirror') {
    const content = host.querySelector('.cm-content')!.cloneNode(true) as HTMLElement
    for (const widget of content.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer')) widget.remove()
    return [...content.querySelectorAll('.cm-line')].map((line) => line.textContent).join('\n')
  }
  const content = host.querySelector(editor === 'tiptap' ? '.tiptap-content' : '.ql-editor')!.cloneNode(true) as HTMLElement
  for (const caret of content.querySelectorAll('.collaboration-carets__caret')) caret.remove()
  return [...content.children].map((block) => block.textContent).join('\n')
})

/**
 * A sandbox for learners: two simulated replicas, A and B, on a simulated network. Each edit
 * is applied to an LWW map on a wall clock, one on a hybrid logical clock, and a Y.Map — by the
 * comparison layer's own runner (trystero-yjs/compare), replayed from the start at every change.
 * Edits happen one second apart; B's clock can run fast or slow; A can go offline. A built-in
 * scenario loads into the same controls (its steps, B's clock), and edits then extend it.
 */
import { builtInScenarios, runScenario, sideLabels, type Scenario, type ScenarioResult, type ScenarioStep, type SideId } from 'trystero-yjs/compare'

const sides: SideId[] = ['lww-wall', 'lww-hlc', 'ymap']
const stepMs = 1000

/** A blank sandbox: A and B, B's clock skewed by the slider. */
const blank = (skewMs: number): Scenario => ({
  id: 'sandbox',
  title: 'Your edits',
  question: '',
  replicas: [{ id: 'A', clientId: 1 }, { id: 'B', clientId: 2, clockSkewMs: skewMs }],
  latencyMs: 50,
  steps: []
})

export const describeStep = (step: ScenarioStep): string => {
  const at = `${(step.at / 1000).toFixed(step.at % 100 === 0 ? 1 : 2)} s`
  if ('set' in step) return `${at} — ${step.replica} sets ${step.set} = ${JSON.stringify(step.value)}`
  if ('delete' in step) return `${at} — ${step.replica} deletes ${step.delete}`
  if ('offline' in step) return `${at} — ${step.offline} goes offline`
  if ('online' in step) return `${at} — ${step.online} is back online`
  if ('partition' in step) return `${at} — the network splits: ${step.partition.map((group) => `{${group.join(', ')}}`).join(' | ')}`
  return `${at} — the network heals`
}

export const mountLwwPanel = (root: HTMLElement): void => {
  const $ = <T extends HTMLElement>(selector: string): T => root.querySelector<T>(selector)!
  const skew = $<HTMLInputElement>('#lww-skew')
  const skewLabel = $<HTMLOutputElement>('#lww-skew-value')
  const offline = $<HTMLInputElement>('#lww-a-offline')
  const key = $<HTMLInputElement>('#lww-key')
  const value = $<HTMLInputElement>('#lww-value')
  const script = $<HTMLOListElement>('#lww-script')
  const results = $<HTMLElement>('#lww-results')
  const preset = $<HTMLSelectElement>('#lww-preset')
  const playing = $<HTMLElement>('#lww-playing')

  // What is played is always this scenario: the controls show it, and edits extend it (a preset
  // included), so that the list, the slider and the table never disagree.
  let scenario = blank(0)
  let run = 0

  const skewOfB = (): number => scenario.replicas.find((r) => r.id === 'B')?.clockSkewMs ?? 0
  const nextTime = (): number => scenario.steps.length === 0 ? 0 : Math.max(...scenario.steps.map((s) => s.at)) + stepMs

  const replay = async (): Promise<void> => {
    const mine = ++run
    results.setAttribute('aria-busy', 'true')
    const result = await runScenario(scenario)
    if (mine !== run) return
    renderResult(result)
    results.setAttribute('aria-busy', 'false')
  }

  /** The controls, from the scenario: its steps, B's clock, whether A is offline at the end. */
  const renderControls = (): void => {
    script.replaceChildren(...scenario.steps.map((step) => Object.assign(document.createElement('li'), { textContent: describeStep(step) })))
    skew.value = String(skewOfB())
    skewLabel.value = `${skewOfB() >= 0 ? '+' : ''}${(skewOfB() / 1000).toFixed(1)} s`
    skew.disabled = !scenario.replicas.some((r) => r.id === 'B')
    let aOffline = false
    for (const step of scenario.steps) {
      if ('offline' in step && step.offline === 'A') aOffline = true
      if ('online' in step && step.online === 'A') aOffline = false
    }
    offline.checked = aOffline
    playing.textContent = scenario.id === 'sandbox' ? '' : `Playing “${scenario.title}”: ${scenario.question}`
    playing.hidden = scenario.id === 'sandbox'
    if (scenario.id === 'sandbox') preset.value = ''
  }

  const update = (): void => {
    renderControls()
    void replay()
  }

  const renderResult = (result: ScenarioResult): void => {
    const keys = [...new Set(result.writes.map((w) => w.key))]
    const table = document.createElement('table')
    const head = table.createTHead().insertRow()
    for (const label of ['', ...sides.map((s) => sideLabels[s])]) head.append(Object.assign(document.createElement('th'), { textContent: label }))
    const body = table.createTBody()
    const first = result.scenario.replicas[0]!.id
    for (const k of keys) {
      const tr = body.insertRow()
      tr.append(Object.assign(document.createElement('th'), { textContent: k }))
      for (const sideId of sides) {
        const side = result.sides.find((s) => s.side === sideId)!
        const cell = tr.insertCell()
        cell.dataset['side'] = sideId
        cell.dataset['key'] = k
        const current = side.values[first]?.[k]
        const contest = side.contests.find((c) => c.key === k)
        const shown = Object.assign(document.createElement('strong'), { textContent: current === undefined ? '(absent)' : JSON.stringify(current) })
        shown.className = 'value'
        cell.append(shown)
        if (contest !== undefined) cell.append(Object.assign(document.createElement('p'), { className: 'why', textContent: contest.why }))
      }
    }
    const footer = body.insertRow()
    footer.append(Object.assign(document.createElement('th'), { textContent: 'all replicas agree' }))
    for (const sideId of sides) {
      const side = result.sides.find((s) => s.side === sideId)!
      footer.insertCell().textContent = `${side.converged ? 'yes' : 'no'}${side.causallyLaterLost > 0 ? ` · ${side.causallyLaterLost} causally later write${side.causallyLaterLost === 1 ? '' : 's'} lost` : ''}`
    }
    results.replaceChildren(...(keys.length === 0 ? [Object.assign(document.createElement('p'), { className: 'hint', textContent: 'Make an edit as A or B, or play a built-in scenario.' })] : [table]))
  }

  const edit = (replica: 'A' | 'B', operation: 'set' | 'delete'): void => {
    const k = key.value.trim()
    if (k.length === 0) return
    scenario.steps.push(operation === 'set' ? { at: nextTime(), replica, set: k, value: value.value } : { at: nextTime(), replica, delete: k })
    update()
  }

  for (const replica of ['A', 'B'] as const) {
    $(`#lww-${replica.toLowerCase()}-set`).addEventListener('click', () => edit(replica, 'set'))
    $(`#lww-${replica.toLowerCase()}-delete`).addEventListener('click', () => edit(replica, 'delete'))
  }
  skew.addEventListener('input', () => {
    scenario.replicas = scenario.replicas.map((r) => r.id === 'B' ? { ...r, clockSkewMs: Number(skew.value) } : r)
    update()
  })
  offline.addEventListener('change', () => {
    scenario.steps.push(offline.checked ? { at: nextTime(), offline: 'A' } : { at: nextTime(), online: 'A' })
    update()
  })
  $('#lww-reset').addEventListener('click', () => {
    scenario = blank(0)
    update()
  })
  for (const builtIn of builtInScenarios()) preset.append(new Option(builtIn.title, builtIn.id))
  preset.addEventListener('change', () => {
    const chosen = builtInScenarios().find((s) => s.id === preset.value)
    if (chosen === undefined) return
    scenario = structuredClone(chosen)
    update()
  })
  update()
}

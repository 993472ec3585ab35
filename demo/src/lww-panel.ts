/**
 * A sandbox for learners: two simulated replicas, A and B, on a simulated network. Each edit
 * is applied to an LWW map on a wall clock, one on a hybrid logical clock, and a Y.Map — by the
 * comparison layer's own runner (trystero-yjs/compare), replayed from the start at every change.
 * Edits happen one second apart; B's clock can run fast or slow; A can go offline.
 */
import { builtInScenarios, runScenario, sideLabels, type Scenario, type ScenarioResult, type ScenarioStep, type SideId } from 'trystero-yjs/compare'

const sides: SideId[] = ['lww-wall', 'lww-hlc', 'ymap']
const stepMs = 1000

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

  let steps: ScenarioStep[] = []
  let run = 0

  const sandbox = (): Scenario => ({
    id: 'sandbox',
    title: 'Your edits',
    question: '',
    replicas: [{ id: 'A', clientId: 1 }, { id: 'B', clientId: 2, clockSkewMs: Number(skew.value) }],
    latencyMs: 50,
    steps
  })

  const nextTime = (): number => steps.length === 0 ? 0 : steps[steps.length - 1]!.at + stepMs

  const replay = async (scenario: Scenario): Promise<void> => {
    const mine = ++run
    results.setAttribute('aria-busy', 'true')
    const result = await runScenario(scenario)
    if (mine !== run) return
    renderResult(result)
    results.setAttribute('aria-busy', 'false')
  }

  const renderScript = (): void => {
    script.replaceChildren(...steps.map((step) => {
      const item = document.createElement('li')
      const at = `${(step.at / 1000).toFixed(1)} s`
      item.textContent = 'set' in step ? `${at} — ${step.replica} sets ${step.set} = ${JSON.stringify(step.value)}`
        : 'delete' in step ? `${at} — ${step.replica} deletes ${step.delete}`
          : 'offline' in step ? `${at} — ${step.offline} goes offline` : 'online' in step ? `${at} — ${step.online} is back online` : `${at}`
      return item
    }))
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
    results.replaceChildren(...(keys.length === 0 ? [Object.assign(document.createElement('p'), { textContent: 'Make an edit as A or B.' })] : [table]))
  }

  const edit = (replica: 'A' | 'B', operation: 'set' | 'delete'): void => {
    const k = key.value.trim()
    if (k.length === 0) return
    steps.push(operation === 'set' ? { at: nextTime(), replica, set: k, value: value.value } : { at: nextTime(), replica, delete: k })
    renderScript()
    void replay(sandbox())
  }

  for (const replica of ['A', 'B'] as const) {
    $(`#lww-${replica.toLowerCase()}-set`).addEventListener('click', () => edit(replica, 'set'))
    $(`#lww-${replica.toLowerCase()}-delete`).addEventListener('click', () => edit(replica, 'delete'))
  }
  skew.addEventListener('input', () => {
    skewLabel.value = `${Number(skew.value) > 0 ? '+' : ''}${(Number(skew.value) / 1000).toFixed(1)} s`
    void replay(sandbox())
  })
  offline.addEventListener('change', () => {
    steps.push(offline.checked ? { at: nextTime(), offline: 'A' } : { at: nextTime(), online: 'A' })
    renderScript()
    void replay(sandbox())
  })
  $('#lww-reset').addEventListener('click', () => {
    steps = []
    offline.checked = false
    renderScript()
    void replay(sandbox())
  })
  for (const scenario of builtInScenarios()) preset.append(new Option(scenario.title, scenario.id))
  preset.addEventListener('change', () => {
    const scenario = builtInScenarios().find((s) => s.id === preset.value)
    if (scenario === undefined) return
    $('#lww-preset-question').textContent = scenario.question
    void replay(scenario)
  })
  renderScript()
  void replay(sandbox())
}

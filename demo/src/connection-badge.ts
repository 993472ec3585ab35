/**
 * Where the user looks first: one badge that says whether this page can sync, and why not.
 * Signaling counts: with every relay down, "connected, 0 peers" would look like an empty room
 * while nobody can find us (`provider.signaling`, and an `error` event when none is reachable).
 */
import type { RelayState, TrysteroProvider } from 'trystero-yjs'

export type BadgeState = 'offline' | 'connecting' | 'no-signaling' | 'connected'

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

export const mountConnectionBadge = (badge: HTMLElement, relayList: HTMLUListElement, provider: TrysteroProvider): void => {
  const label = badge.querySelector<HTMLElement>('.label')!
  const render = (): void => {
    const signaling = provider.signaling
    const stranded = signaling.total > 0 && signaling.relays.every((relay) => relay.state === 'failed')
    const state: BadgeState = provider.status === 'disconnected' ? 'offline'
      : stranded ? 'no-signaling'
        : provider.status === 'connecting' ? 'connecting' : 'connected'
    badge.dataset['state'] = state
    badge.dataset['status'] = provider.status
    badge.dataset['synced'] = String(provider.synced)
    const relays = signaling.total === 0 ? '' : ` · signaling ${signaling.reachable}/${signaling.total}`
    label.textContent = state === 'offline' ? 'Offline: your edits wait here'
      : state === 'no-signaling' ? `No signaling server reachable (0 of ${signaling.total}): nobody can find you`
        : state === 'connecting' ? `Connecting…${relays}`
          : `${provider.synced ? 'Connected' : 'Syncing…'} · ${plural(provider.peers.length, 'peer')}${relays}`
    badge.title = signaling.lastError === null ? label.textContent : `${label.textContent}\nlast signaling error: ${signaling.lastError}`

    relayList.replaceChildren(...signaling.relays.map(({ url, state }) => {
      const item = document.createElement('li')
      item.dataset['state'] = state
      const code = document.createElement('code')
      code.textContent = url
      item.append(code, ` ${describe[state]}`)
      return item
    }))
    if (signaling.relays.length === 0) relayList.replaceChildren(Object.assign(document.createElement('li'), { textContent: provider.connected || provider.status === 'connecting' ? 'looking for relays…' : 'not in use while offline' }))
  }
  for (const event of ['status', 'synced', 'peers', 'signaling'] as const) provider.on(event, render)
  render()
}

const describe: Record<RelayState, string> = {
  open: 'connected',
  connecting: 'connecting…',
  failed: 'unreachable (Trystero retries)',
  unknown: 'state unknown'
}

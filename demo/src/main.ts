/**
 * The demo: a shared CodeMirror document with everyone's cursor, a chat, the peers in the room,
 * and a sandbox comparing last-writer-wins with Y.Map. Everything but the signaling goes peer to
 * peer; the document is also kept in this browser (IndexedDB).
 */
import * as Y from 'yjs'
import { IndexeddbPersistence } from 'y-indexeddb'
import { TrysteroProvider, type TrysteroYjsError } from 'trystero-yjs'
import { mountChat, type ChatMessage } from './chat-panel.js'
import { mountEditor } from './editor.js'
import { loadIdentity, saveIdentity, type Identity } from './identity.js'
import { mountLwwPanel } from './lww-panel.js'
import { mountPeersPanel } from './peers-panel.js'
import { readRoomSettings, settingsUrl, signalingChoices, type SignalingChoice } from './room-settings.js'
import { loadStrategy } from './signaling.js'
import './style.css'

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!

const settings = readRoomSettings(new URL(location.href))
history.replaceState(null, '', settingsUrl(new URL(location.href), settings))
let identity: Identity = loadIdentity(localStorage)

const doc = new Y.Doc()
// The local copy loads while the strategy's code does: the provider may not exist yet.
let peersAnswered = false
doc.on('update', (_update: Uint8Array, origin: unknown) => { if (origin instanceof TrysteroProvider) peersAnswered = true })
const persistence = new IndexeddbPersistence(`trystero-yjs-demo/${settings.room}`, doc)
persistence.on('synced', () => {
  // Content before any peer's update: it came from this browser's copy.
  const restored = doc.store.clients.size > 0 && !peersAnswered
  $('#saved').textContent = restored ? 'restored from this browser' : 'saved in this browser'
})

const strategy = await loadStrategy(settings.signaling)
const relayUrls = settings.relayUrls ?? strategy.defaultRelayUrls
const provider = new TrysteroProvider(doc, settings.room, {
  appId: 'trystero-yjs-demo',
  joinRoom: strategy.joinRoom,
  relayConfig: { urls: relayUrls },
  ...(strategy.rtcConfig === undefined ? {} : { rtcConfig: strategy.rtcConfig })
})
provider.awareness.setLocalStateField('user', identity)

const problems = $<HTMLUListElement>('#problems')
const report = (kind: string) => (problem: TrysteroYjsError): void => {
  const item = document.createElement('li')
  item.textContent = `${kind}: ${problem.message}`
  problems.prepend(item)
  problems.closest('details')!.hidden = false
}
provider.on('error', report('error'))
provider.on('warning', report('warning'))

mountEditor($('#editor'), doc.getText('codemirror'), provider.awareness)
mountChat($('#chat-panel'), doc.getArray<ChatMessage>('chat'), () => identity)
mountPeersPanel($('#peers-panel'), provider, () => identity)
mountLwwPanel($('#lww-panel'))

// The room, and a link to it.
$('#room').textContent = settings.room
$('#share').addEventListener('click', () => {
  const link = $<HTMLInputElement>('#share-link')
  link.value = location.href
  link.hidden = false
  link.select()
  navigator.clipboard?.writeText(location.href).then(() => { $('#share').textContent = 'Link copied' }, () => {})
})

// Who I am.
const nameInput = $<HTMLInputElement>('#name')
nameInput.value = identity.name
nameInput.addEventListener('change', () => {
  identity = saveIdentity(localStorage, { ...identity, name: nameInput.value.trim() || identity.name })
  provider.awareness.setLocalStateField('user', identity)
})

// Offline: edits made apart merge when back.
$<HTMLInputElement>('#offline').addEventListener('change', (event) => {
  if ((event.target as HTMLInputElement).checked) void provider.disconnect()
  else void provider.connect()
})

// Signaling: the choice and its relays; applying it opens the same room there.
const signal = $<HTMLSelectElement>('#signal')
const relays = $<HTMLTextAreaElement>('#relays')
for (const [value, label] of Object.entries(signalingChoices)) signal.append(new Option(label, value, false, value === settings.signaling))
relays.value = relayUrls.join('\n')
signal.addEventListener('change', () => {
  void loadStrategy(signal.value as SignalingChoice).then((chosen) => { relays.value = chosen.defaultRelayUrls.join('\n') })
})
$<HTMLFormElement>('#signaling-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const choice = signal.value as SignalingChoice
  const urls = relays.value.split(/\s+/).filter((u) => u.length > 0)
  location.assign(settingsUrl(new URL(location.href), { room: settings.room, signaling: choice, relayUrls: choice === 'local' ? null : urls }))
})

/**
 * The demo: a shared document in the editor of your choice (CodeMirror, Tiptap or Quill) with
 * everyone's caret, a chat, the people in the room, and a sandbox comparing last-writer-wins with
 * Y.Map. Everything but the signaling goes peer to peer; the document is also kept in this
 * browser (IndexedDB).
 */
import * as Y from 'yjs'
import { IndexeddbPersistence } from 'y-indexeddb'
import { TrysteroProvider, viewKeyOf, type TrysteroYjsError } from 'trystero-yjs'
import { mountChat, type ChatMessage } from './chat-panel.js'
import { mountConnectionBadge } from './connection-badge.js'
import { editors, type EditorChoice } from './editors/index.js'
import type { MountedEditor } from './editors/editor-types.js'
import { loadIdentity, saveIdentity, type Identity } from './identity.js'
import { mountLwwPanel } from './lww-panel.js'
import { mountPeersPanel } from './peers-panel.js'
import { quietRemoteClose } from './quiet-close.js'
import { accessFragment, newWriteKey, readRoomSettings, settingsUrl, signalingChoices, type SignalingChoice } from './room-settings.js'
import { loadStrategy } from './signaling.js'
import './style.css'

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!

const settings = readRoomSettings(new URL(location.href))
history.replaceState(null, '', settingsUrl(new URL(location.href), settings))
let identity: Identity = loadIdentity(sessionStorage)

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
  getRelaySockets: strategy.getRelaySockets,
  relayConfig: { urls: relayUrls },
  rtcPolyfill: quietRemoteClose(RTCPeerConnection),
  ...(strategy.rtcConfig === undefined ? {} : { rtcConfig: strategy.rtcConfig }),
  // A private room: every peer proves it holds the key before it gets anything.
  ...settings.access
})
const readOnly = provider.role === 'viewer'
provider.awareness.setLocalStateField('user', identity)
// For the curious, in the browser console: trysteroYjsDemo.provider.peers, .signaling, .doc …
Object.assign(window, { trysteroYjsDemo: { doc, provider } })

const problems = $<HTMLUListElement>('#problems')
const report = (kind: string) => (problem: TrysteroYjsError): void => {
  const item = document.createElement('li')
  item.dataset['kind'] = kind
  item.textContent = `${kind}: ${problem.message}`
  problems.prepend(item)
  const details = problems.closest('details')!
  details.hidden = false
  if (kind === 'error') details.open = true
}
provider.on('error', report('error'))
provider.on('warning', report('warning'))

mountConnectionBadge($('#status'), $('#relay-list'), provider)
mountChat($('#chat-panel'), doc.getArray<ChatMessage>('chat'), () => identity)
mountPeersPanel($('#peers-panel'), provider, () => identity)
mountLwwPanel($('#lww-panel'))

// The editor: each loads when chosen; switching keeps the document (each has its own part).
let editor: MountedEditor | null = null
let editorChoice = settings.editor
let mounting = Promise.resolve()
const showEditor = async (choice: EditorChoice): Promise<void> => {
  editorChoice = choice
  for (const tab of document.querySelectorAll<HTMLButtonElement>('#editor-tabs [data-editor]')) {
    tab.setAttribute('aria-selected', String(tab.dataset['editor'] === choice))
  }
  $('#editor-detail').textContent = editors[choice].detail
  history.replaceState(null, '', settingsUrl(new URL(location.href), { ...readRoomSettings(new URL(location.href)), editor: choice }))
  const host = $('#editor')
  host.setAttribute('aria-busy', 'true')
  const { mount } = await editors[choice].load()
  if (editorChoice !== choice) return
  editor?.destroy()
  // The old editor's caret position means nothing to the new one, nor to peers on another editor.
  provider.awareness.setLocalStateField('cursor', null)
  host.replaceChildren()
  host.dataset['editor'] = choice
  editor = mount(host, { doc, awareness: provider.awareness, user: identity, readOnly })
  host.setAttribute('aria-busy', 'false')
}
for (const [choice, info] of Object.entries(editors)) {
  const tab = Object.assign(document.createElement('button'), { type: 'button', textContent: info.label })
  tab.dataset['editor'] = choice
  tab.setAttribute('role', 'tab')
  tab.addEventListener('click', () => { mounting = mounting.then(async () => await showEditor(choice as EditorChoice)) })
  $('#editor-tabs').append(tab)
}
mounting = showEditor(settings.editor)

// The room, and links to it: in a private room, an edit link and a read-only one (the keys travel
// in the URL's fragment, which the browser never sends to a server).
$('#room').textContent = settings.room
const access = $('#access')
access.dataset['access'] = settings.access === null ? 'open' : readOnly ? 'view' : 'write'
access.textContent = settings.access === null ? 'open room' : readOnly ? 'private · read only' : 'private · you can edit'
access.title = settings.access === null
  ? 'Anyone who knows the room name can join. "New private room" makes one that only its links open.'
  : 'Only links with this room\'s key get in: each peer proves it holds the key before it is sent anything.'
const linkWith = (fragment: string): string => `${location.href.split('#')[0]!}${fragment}`
const share = (button: HTMLButtonElement, link: () => Promise<string>) => async (): Promise<void> => {
  const href = await link()
  const field = $<HTMLInputElement>('#share-link')
  field.value = href
  field.hidden = false
  field.select()
  navigator.clipboard?.writeText(href).then(() => { button.textContent = 'Link copied' }, () => {})
}
const inviteLink = async (): Promise<string> => linkWith(accessFragment(settings.access))
const viewLink = async (): Promise<string> => settings.access !== null && 'writeKey' in settings.access
  ? linkWith(accessFragment({ viewKey: await viewKeyOf(settings.access.writeKey) }))
  : await inviteLink()
$('#share').textContent = settings.access === null ? 'Copy invite link' : readOnly ? 'Copy read-only link' : 'Copy edit link'
$<HTMLButtonElement>('#share').addEventListener('click', () => { void share($('#share'), inviteLink)() })
$<HTMLButtonElement>('#share-alone').addEventListener('click', () => { void share($('#share-alone'), inviteLink)() })
$<HTMLButtonElement>('#share-view').hidden = settings.access === null || readOnly
$<HTMLButtonElement>('#share-view').addEventListener('click', () => { void share($('#share-view'), viewLink)() })
$<HTMLButtonElement>('#make-private').hidden = settings.access !== null
$<HTMLButtonElement>('#make-private').addEventListener('click', () => {
  const room = `room-${Math.random().toString(36).slice(2, 8)}`
  location.assign(settingsUrl(new URL(location.href), { ...settings, room, editor: editorChoice, access: { writeKey: newWriteKey() } }))
})

// Who I am.
const nameInput = $<HTMLInputElement>('#name')
nameInput.value = identity.name
$('#me-color').style.background = identity.color
nameInput.addEventListener('change', () => {
  identity = saveIdentity(sessionStorage, { ...identity, name: nameInput.value.trim() || identity.name })
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
  location.assign(settingsUrl(new URL(location.href), { room: settings.room, editor: editorChoice, signaling: choice, relayUrls: choice === 'local' ? null : urls, access: settings.access }))
})

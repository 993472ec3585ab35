/**
 * What the URL says: the room (so a link is an invitation), the editor, the signaling network and
 * its relays, and — in the fragment, which the browser never sends to a server — the key of a
 * private room: `#write=…` (an edit link) or `#view=…` (a read-only link). Changing the network
 * means navigating to a new URL: the page starts clean there.
 */
import { isEditorChoice, type EditorChoice } from './editors/index.js'

export type SignalingChoice = 'local' | 'nostr' | 'torrent' | 'mqtt'

export const signalingChoices: Record<SignalingChoice, string> = {
  local: 'Local broker (this machine, no internet)',
  nostr: 'Nostr (public relays)',
  torrent: 'BitTorrent (public trackers)',
  mqtt: 'MQTT (public brokers)'
}

export interface RoomSettings {
  room: string
  editor: EditorChoice
  signaling: SignalingChoice
  /** `null`: the network's default relays. */
  relayUrls: string[] | null
  /** A private room's key, from the fragment; `null` for an open room. */
  access: { writeKey: string } | { viewKey: string } | null
}

const isChoice = (value: string | null): value is SignalingChoice => value !== null && value in signalingChoices

export const readRoomSettings = (url: URL): RoomSettings => {
  const signal = url.searchParams.get('signal')
  const relays = url.searchParams.get('relays')
  const editor = url.searchParams.get('editor')
  return {
    room: url.searchParams.get('room') || `room-${Math.random().toString(36).slice(2, 8)}`,
    editor: isEditorChoice(editor) ? editor : 'codemirror',
    signaling: isChoice(signal) ? signal : 'local',
    relayUrls: relays === null ? null : relays.split(',').map((r) => r.trim()).filter((r) => r.length > 0),
    access: readAccess(new URLSearchParams(url.hash.slice(1)))
  }
}

const readAccess = (fragment: URLSearchParams): RoomSettings['access'] => {
  const writeKey = fragment.get('write')
  if (writeKey !== null) return { writeKey }
  const viewKey = fragment.get('view')
  return viewKey === null ? null : { viewKey }
}

/** The fragment of a link with this key (or none for an open room). */
export const accessFragment = (access: RoomSettings['access']): string =>
  access === null ? '' : 'writeKey' in access ? `#write=${access.writeKey}` : `#view=${access.viewKey}`

/** A new private room's write key: 32 random bytes (no password needed: the key is the secret). */
export const newWriteKey = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')
}

export const settingsUrl = (base: URL, settings: RoomSettings): string => {
  const url = new URL(base.href)
  url.search = ''
  url.searchParams.set('room', settings.room)
  if (settings.editor !== 'codemirror') url.searchParams.set('editor', settings.editor)
  if (settings.signaling !== 'local') url.searchParams.set('signal', settings.signaling)
  if (settings.relayUrls !== null) url.searchParams.set('relays', settings.relayUrls.join(','))
  url.hash = accessFragment(settings.access)
  return url.href
}

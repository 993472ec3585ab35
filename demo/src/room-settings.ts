/**
 * What the URL says: the room (so a link is an invitation), the editor, the signaling network and
 * its relays. Changing the network means navigating to a new URL: the page starts clean there.
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
    relayUrls: relays === null ? null : relays.split(',').map((r) => r.trim()).filter((r) => r.length > 0)
  }
}

export const settingsUrl = (base: URL, settings: RoomSettings): string => {
  const url = new URL(base.href)
  url.search = ''
  url.searchParams.set('room', settings.room)
  if (settings.editor !== 'codemirror') url.searchParams.set('editor', settings.editor)
  if (settings.signaling !== 'local') url.searchParams.set('signal', settings.signaling)
  if (settings.relayUrls !== null) url.searchParams.set('relays', settings.relayUrls.join(','))
  return url.href
}

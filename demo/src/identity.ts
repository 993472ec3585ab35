/**
 * Who this page is in the room: a name and a colour, kept across reloads of this tab
 * (sessionStorage: two tabs of one browser are two users, as two people would be).
 */
export interface Identity {
  name: string
  color: string
  /** The colour, faint: for selections. */
  colorLight: string
}

const key = 'trystero-yjs-demo:identity'
const names = ['Ada', 'Alan', 'Barbara', 'Claude', 'Donald', 'Edsger', 'Frances', 'Grace', 'Hedy', 'Ivan', 'Joan', 'Ken', 'Leslie', 'Margaret', 'Niklaus', 'Radia']
/** Readable with white text on both light and dark pages; `#rrggbb`, as Tiptap's carets require. */
const colors = ['#d9480f', '#2b8a3e', '#1c7ed6', '#ae3ec9', '#e8590c', '#0c8599', '#c2255c', '#5f3dc4', '#2f9e44', '#1971c2']

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!

export const loadIdentity = (storage: Storage): Identity => {
  try {
    const stored = JSON.parse(storage.getItem(key) ?? 'null') as Identity | null
    if (stored !== null && typeof stored.name === 'string' && typeof stored.color === 'string' && /^#[0-9a-f]{6}$/i.test(stored.color)) return stored
  } catch {}
  const color = pick(colors)
  return saveIdentity(storage, { name: pick(names), color, colorLight: `${color}33` })
}

export const saveIdentity = (storage: Storage, identity: Identity): Identity => {
  storage.setItem(key, JSON.stringify(identity))
  return identity
}

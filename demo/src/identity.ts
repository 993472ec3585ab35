/** Who this browser is in the room: a name and a colour, kept across reloads. */
export interface Identity {
  name: string
  color: string
  /** The colour, faint: for selections. */
  colorLight: string
}

const key = 'trystero-yjs-demo:identity'
const names = ['Ada', 'Alan', 'Barbara', 'Claude', 'Donald', 'Edsger', 'Frances', 'Grace', 'Hedy', 'Ivan', 'Joan', 'Ken', 'Leslie', 'Margaret', 'Niklaus', 'Radia']
const colors = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#46a0b4', '#c8a000', '#f032e6', '#008080', '#9a6324']

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!

export const loadIdentity = (storage: Storage): Identity => {
  try {
    const stored = JSON.parse(storage.getItem(key) ?? 'null') as Identity | null
    if (stored !== null && typeof stored.name === 'string' && typeof stored.color === 'string') return stored
  } catch {}
  const color = pick(colors)
  return saveIdentity(storage, { name: pick(names), color, colorLight: `${color}33` })
}

export const saveIdentity = (storage: Storage, identity: Identity): Identity => {
  storage.setItem(key, JSON.stringify(identity))
  return identity
}

/** What every editor module exports: mount an editor on its part of the document. */
import type * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import type { Identity } from '../identity.js'

export interface EditorContext {
  doc: Y.Doc
  /** `provider.awareness`: everyone's caret, with the `user` field (name, colour) each page set. */
  awareness: Awareness
  user: Identity
  /** A viewer of a private room: the editor shows the document and its carets, and takes no edit. */
  readOnly: boolean
}

export interface MountedEditor {
  /** Removes the editor and its listeners; its caret leaves the others' screens. */
  destroy: () => void
}

export type MountEditor = (parent: HTMLElement, context: EditorContext) => MountedEditor

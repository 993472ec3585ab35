/**
 * The editors the page offers. Each is imported only when chosen (its code is a chunk of its own,
 * see demo/vite.config.ts), and each edits its own shared type of the one document: a link
 * carries the choice (`?editor=`), so that whoever opens it sees the same text.
 */
import type { MountEditor } from './editor-types.js'

export type EditorChoice = 'codemirror' | 'tiptap' | 'quill'

export interface EditorInfo {
  label: string
  /** The shared type and binding, shown under the editor. */
  detail: string
  load: () => Promise<{ mount: MountEditor }>
}

export const editors: Record<EditorChoice, EditorInfo> = {
  codemirror: { label: 'CodeMirror', detail: 'code · Y.Text "codemirror" · y-codemirror.next', load: async () => await import('./codemirror.js') },
  tiptap: { label: 'Tiptap', detail: 'rich text · Y.XmlFragment "tiptap" · @tiptap/extension-collaboration', load: async () => await import('./tiptap.js') },
  quill: { label: 'Quill', detail: 'rich text · Y.Text "quill" · y-quill', load: async () => await import('./quill.js') }
}

export const isEditorChoice = (value: string | null): value is EditorChoice => value !== null && value in editors

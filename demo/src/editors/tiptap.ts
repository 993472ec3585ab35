/**
 * Tiptap 3 on a Y.XmlFragment. StarterKit's own undo/redo (ProseMirror history) is turned off:
 * Collaboration brings Yjs's undo, which undoes this page's edits only. Every `@tiptap/*` package
 * is pinned to the version of `@tiptap/extension-collaboration-caret`, which lags the others.
 */
import { Editor } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import type { MountEditor } from './editor-types.js'
import './tiptap.css'

export const mount: MountEditor = (parent, { doc, awareness, user, readOnly }) => {
  const editor = new Editor({
    element: parent,
    editable: !readOnly,
    extensions: [
      StarterKit.configure({ undoRedo: false }),
      Collaboration.configure({ fragment: doc.getXmlFragment('tiptap') }),
      CollaborationCaret.configure({ provider: { awareness }, user: { name: user.name, color: user.color } })
    ],
    editorProps: { attributes: { class: 'tiptap-content', 'aria-label': 'document (Tiptap)' } }
  })
  return { destroy: () => editor.destroy() }
}

/** The shared text: CodeMirror 6 bound to a Y.Text, with everyone's cursor from awareness. */
import { EditorView, basicSetup } from 'codemirror'
import { yCollab } from 'y-codemirror.next'
import * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'

export const mountEditor = (parent: HTMLElement, text: Y.Text, awareness: Awareness): EditorView => new EditorView({
  parent,
  doc: text.toString(),
  extensions: [basicSetup, EditorView.lineWrapping, yCollab(text, awareness, { undoManager: new Y.UndoManager(text) })]
})

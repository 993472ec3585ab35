/**
 * CodeMirror 6 on a Y.Text. Undo is Yjs's: `basicSetup` and `minimalSetup` bring CodeMirror's
 * own history, which records the other users' edits too (Ctrl+Z would undo theirs), so the
 * extensions are listed here without it, and Ctrl+Z / Ctrl+Y go to the Y.UndoManager, which
 * tracks this page's edits only.
 */
import { EditorState } from '@codemirror/state'
import { EditorView, drawSelection, dropCursor, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers } from '@codemirror/view'
import { defaultKeymap, indentWithTab } from '@codemirror/commands'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'
import type { MountEditor } from './editor-types.js'

/** Colours from the page's CSS variables: the editor follows light and dark mode. */
const theme = EditorView.theme({
  '&': { color: 'var(--text)', backgroundColor: 'var(--surface)', height: '100%' },
  '.cm-content': { caretColor: 'var(--text)', fontFamily: 'var(--mono)', padding: '1.6em 0 1em' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--muted)', borderRight: '1px solid var(--line)' },
  '.cm-activeLine': { backgroundColor: 'var(--active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--active-line)' },
  '&.cm-focused .cm-cursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused': { outline: 'none' },
  // The other users' names, always shown (y-codemirror.next shows them on hover only).
  '.cm-ySelectionInfo': { opacity: '1', top: '-1.35em', fontFamily: 'var(--sans)', fontSize: '0.72rem', fontWeight: '600', padding: '0.1em 0.4em', borderRadius: '4px 4px 4px 0', transitionDelay: '0s' }
})

export const mount: MountEditor = (parent, { doc, awareness, readOnly }) => {
  const text = doc.getText('codemirror')
  const view = new EditorView({
    parent,
    doc: text.toString(),
    extensions: [
      lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), drawSelection(), dropCursor(), highlightActiveLine(),
      keymap.of([...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
      EditorView.lineWrapping,
      theme,
      // Read-only, yet focusable: a viewer's caret and selection still show at the others.
      EditorState.readOnly.of(readOnly),
      yCollab(text, awareness, { undoManager: new Y.UndoManager(text) })
    ]
  })
  return { destroy: () => view.destroy() }
}

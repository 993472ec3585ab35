/**
 * Quill 2 on a Y.Text (with its formatting attributes). Quill's history is told to record only
 * this user's edits (`userOnly`): the other users' edits arrive through the API, and Ctrl+Z must
 * not undo them. y-quill 1.0 wants quill-cursors 4 (the latest is 6).
 */
import Quill from 'quill'
import QuillCursors from 'quill-cursors'
import { QuillBinding } from 'y-quill'
import 'quill/dist/quill.snow.css'
import type { MountEditor } from './editor-types.js'
import './quill.css'

Quill.register('modules/cursors', QuillCursors)

export const mount: MountEditor = (parent, { doc, awareness, readOnly }) => {
  // Quill puts its toolbar before the element it is given: both go in a wrapper of ours.
  const wrapper = document.createElement('div')
  wrapper.className = 'quill-host'
  const host = wrapper.appendChild(document.createElement('div'))
  parent.append(wrapper)
  const quill = new Quill(host, {
    theme: 'snow',
    readOnly,
    placeholder: readOnly ? '' : 'Type here…',
    modules: {
      cursors: { hideDelayMs: 0, transformOnTextChange: true },
      history: { userOnly: true },
      toolbar: [[{ header: [1, 2, false] }], ['bold', 'italic', 'underline', 'strike'], [{ list: 'ordered' }, { list: 'bullet' }], ['blockquote', 'code-block', 'link'], ['clean']]
    }
  })
  const binding = new QuillBinding(doc.getText('quill'), quill, awareness)
  return {
    destroy: () => {
      binding.destroy()
      wrapper.remove()
    }
  }
}

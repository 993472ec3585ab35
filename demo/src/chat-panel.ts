/** Chat messages live in a Y.Array of the document: a peer who joins later reads the history. */
import type * as Y from 'yjs'
import type { Identity } from './identity.js'

export interface ChatMessage {
  from: string
  color: string
  text: string
  /** ms since epoch, as the sender's clock said. */
  at: number
}

export const mountChat = (root: HTMLElement, messages: Y.Array<ChatMessage>, identity: () => Identity): void => {
  const log = root.querySelector<HTMLOListElement>('#chat-log')!
  const form = root.querySelector<HTMLFormElement>('#chat-form')!
  const input = root.querySelector<HTMLInputElement>('#chat-input')!
  const render = (): void => {
    log.replaceChildren(...messages.toArray().map((message) => {
      const item = document.createElement('li')
      const who = document.createElement('b')
      who.textContent = message.from
      who.style.color = message.color
      const time = document.createElement('time')
      time.textContent = new Date(message.at).toLocaleTimeString()
      item.append(who, ` ${message.text} `, time)
      return item
    }))
    log.scrollTop = log.scrollHeight
  }
  messages.observe(render)
  render()
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const text = input.value.trim()
    if (text.length === 0) return
    const { name, color } = identity()
    messages.push([{ from: name, color, text, at: Date.now() }])
    input.value = ''
  })
}

/**
 * A custom Trystero strategy built with `createTopicStrategy`, as an app would write one: topics
 * are BroadcastChannels, so peers in one process find each other with no server at all. It proves
 * the provider works with strategies other than the published ones.
 */
import type { JoinRoom } from '../../../src/index.js'

interface TopicStrategyCore {
  createTopicStrategy: (adapter: {
    init: (config: unknown) => unknown
    subscribeTopic: (relay: unknown, topic: string, onMessage: (topic: string, msg: string | Record<string, unknown>) => void) => () => void
    publishTopic: (relay: unknown, topic: string, msg: string | Record<string, unknown>) => void
  }) => JoinRoom<any>
}

const publishers = new Map<string, BroadcastChannel>()
const subscribers = new Set<BroadcastChannel>()

export const createBroadcastChannelStrategy = (core: TopicStrategyCore, namespace: string): JoinRoom<any> =>
  core.createTopicStrategy({
    init: () => namespace,
    subscribeTopic: (_relay, topic, onMessage) => {
      const channel = new BroadcastChannel(`${namespace}/${topic}`)
      channel.onmessage = (event: MessageEvent) => onMessage(topic, event.data as string)
      subscribers.add(channel)
      return () => {
        subscribers.delete(channel)
        channel.close()
      }
    },
    publishTopic: (_relay, topic, msg) => {
      const name = `${namespace}/${topic}`
      let channel = publishers.get(name)
      if (!channel) {
        channel = new BroadcastChannel(name)
        publishers.set(name, channel)
      }
      channel.postMessage(msg)
    }
  })

/** Closes every channel (a channel with a listener keeps Node running). */
export const closeBroadcastChannels = (): void => {
  for (const channel of [...publishers.values(), ...subscribers]) channel.close()
  publishers.clear()
  subscribers.clear()
}

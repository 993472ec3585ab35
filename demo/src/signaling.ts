/**
 * The Trystero strategy behind each signaling choice. Each is imported only when chosen, so the
 * page carries the code of one network, not four.
 */
import type { GetRelaySockets, JoinRoom } from 'trystero-yjs'
import type { SignalingChoice } from './room-settings.js'

export interface LoadedStrategy {
  joinRoom: JoinRoom<any>
  /** For `provider.signaling`: which relays answer. */
  getRelaySockets: GetRelaySockets
  defaultRelayUrls: string[]
  /** Loopback and LAN need no STUN server, and offline there is none to reach. */
  rtcConfig?: RTCConfiguration
}

interface StrategyModule { joinRoom: JoinRoom<any>, getRelaySockets: GetRelaySockets, defaultRelayUrls: string[] }

export const loadStrategy = async (choice: SignalingChoice): Promise<LoadedStrategy> => {
  switch (choice) {
    case 'local': {
      const { joinRoom, getRelaySockets } = await import('@trystero-p2p/mqtt') as unknown as StrategyModule
      return { joinRoom, getRelaySockets, defaultRelayUrls: [__LOCAL_BROKER_URL__], rtcConfig: { iceServers: [] } }
    }
    case 'mqtt':
      return await import('@trystero-p2p/mqtt') as unknown as StrategyModule
    case 'nostr':
      return await import('@trystero-p2p/nostr') as unknown as StrategyModule
    case 'torrent':
      return await import('@trystero-p2p/torrent') as unknown as StrategyModule
  }
}

import { describeProviderOverWebRTC } from '../support/webrtc-suite.js'

// A strategy built with Trystero's createTopicStrategy (test/support/signaling/broadcast-channel-strategy.ts).
describeProviderOverWebRTC('custom')

import { describeProviderOverWebRTC } from '../support/webrtc-suite.js'

describeProviderOverWebRTC('torrent')

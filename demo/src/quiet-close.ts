/**
 * When a peer leaves (closes or reloads its page), Chromium aborts the SCTP association of every
 * data channel, and each channel fires `error` ("User-Initiated Abort, reason=Close called",
 * SCTP cause 12) just before `close`. Trystero logs every channel error with console.error, so a
 * peer leaving normally put an error in every other page's console. This RTCPeerConnection, given
 * to Trystero as `rtcPolyfill`, stops that one error before Trystero's handler; the `close` that
 * follows still reaches Trystero, which drops the peer as before. Any other error passes.
 */
const userInitiatedAbort = 12

const isRemoteClose = (event: Event): boolean => {
  const error = (event as Event & { error?: { errorDetail?: string, sctpCauseCode?: number | null } }).error
  return error?.errorDetail === 'sctp-failure' && error.sctpCauseCode === userInitiatedAbort
}

/** Registered before Trystero sets `onerror`: runs first, and can stop it. */
const quiet = (channel: RTCDataChannel): RTCDataChannel => {
  channel.addEventListener('error', (event) => { if (isRemoteClose(event)) event.stopImmediatePropagation() })
  return channel
}

export const quietRemoteClose = (Base: typeof RTCPeerConnection): typeof RTCPeerConnection =>
  class extends Base {
    constructor (config?: RTCConfiguration) {
      super(config)
      // Before Trystero's `ondatachannel`, which sets up the channel's handlers.
      this.addEventListener('datachannel', (event) => quiet(event.channel))
    }

    override createDataChannel (label: string, options?: RTCDataChannelInit): RTCDataChannel {
      return quiet(super.createDataChannel(label, options))
    }
  }

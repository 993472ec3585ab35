/**
 * Private rooms attacked over real WebRTC (node-datachannel, the embedded MQTT broker): the lobby
 * bypass of Trystero's password check, a wrong key, a viewer writing, a cursor taken while its
 * owner is away, and an edit forged under another peer's client id. PROTOCOL.md §3.6 and §5.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { deriveRoomKeys, docChannelKey, TrysteroProvider, TrysteroYjsError, type TrysteroProviderOptions, type TrysteroRoom } from '../../src/index.js'
import { encodeAwarenessEntries } from '../../src/protocol/awareness-entries.js'
import { encodeFrame } from '../../src/protocol/doc-messages.js'
import { decodeRoomMessage, encodeRoomMessage, protocolVersion, roomChannelName } from '../../src/protocol/room-messages.js'
import { syncUpdateEnvelope } from '../support/hostile-frames.js'
import type { TrysteroPeer } from '../support/trystero-peer.js'
import { converged, nextEvent, on, until } from '../support/wait.js'
import { useWebRtcFixture } from '../support/webrtc-fixture.js'

const deadline = 45_000
const password = 'the vault password'

describe('private rooms over real WebRTC', () => {
  const fixture = useWebRtcFixture('mqtt')
  const roomName = fixture.roomId
  const newPeer = async (): Promise<TrysteroPeer> => await fixture.peer()

  const provide = (peer: TrysteroPeer, room: string | TrysteroRoom, options: TrysteroProviderOptions = {}): { doc: Y.Doc, provider: TrysteroProvider } => {
    const doc = new Y.Doc()
    const provider = fixture.provider(new TrysteroProvider(doc, room, { ...peer.config, joinRoom: peer.joinRoom, ...options }))
    return { doc, provider }
  }

  const joinRaw = (peer: TrysteroPeer, roomId: string, callbacks?: Parameters<TrysteroPeer['joinRoom']>[2]): TrysteroRoom => {
    return fixture.room(peer.joinRoom(peer.config, roomId, callbacks))
  }

  /**
   * Trystero's password check runs at the end with the smaller selfId only. An attacker with the
   * smaller id that runs the challenge itself, ignoring the answer, passes the other end's
   * (absent) check: this is the attack's handshake, used on the shared lobby connection.
   */
  const bypassHandshake = {
    onPeerHandshake: async (_peerId: string, send: (data: unknown) => Promise<void>, receive: () => Promise<unknown>) => {
      await send({ __trystero_pw: 'challenge', c: 'x'.repeat(36) })
      await receive()
    }
  }

  /**
   * The attacker's room, deaf to the PROOFs it is sent: an attacker with no key has nothing to
   * check them with. (A provider with a wrong key would refuse the victim's proof, and may close
   * the connection before the victim has judged its own: then nobody names the wrong key.)
   */
  const deafToProofs = (room: TrysteroRoom): TrysteroRoom => {
    const makeAction = room.makeAction.bind(room)
    room.makeAction = ((name: string) => {
      const action = makeAction(name)
      if (name !== roomChannelName) return action
      return {
        send: action.send.bind(action),
        get onMessage () { return action.onMessage },
        set onMessage (handler) {
          action.onMessage = handler === null ? handler : (data, meta) => { if (decodeRoomMessage(data as Uint8Array)?.type !== 'proof') handler(data, meta) }
        },
        get onReceiveProgress () { return action.onReceiveProgress },
        set onReceiveProgress (handler) { action.onReceiveProgress = handler }
      }
    }) as TrysteroRoom['makeAction']
    return room
  }

  /** An attacker and a victim whose selfIds sort attacker first, both in an open lobby. */
  const attackerAndVictimInLobby = async (): Promise<{ attacker: TrysteroPeer, victim: TrysteroPeer }> => {
    const [one, two] = [await newPeer(), await newPeer()]
    const [attacker, victim] = one.selfId < two.selfId ? [one, two] : [two, one]
    const lobby = roomName('lobby')
    const attackerLobby = joinRaw(attacker, lobby)
    joinRaw(victim, lobby)
    await new Promise<void>((resolve) => { attackerLobby.onPeerJoin = (id) => { if (id === victim.selfId) resolve() } })
    return { attacker, victim }
  }

  it('the lobby bypass: a connection from another room of the app is attached, but gets nothing of the private document', async () => {
    const { attacker, victim } = await attackerAndVictimInLobby()
    const vault = roomName('vault')
    const v = provide(victim, vault, { password })
    v.doc.getText('t').insert(0, 'the secret plans')
    v.provider.awareness.setLocalStateField('user', { name: 'Victor' })
    await v.provider.whenSynced()
    // The attacker joins the private room with no key at all, on the lobby's connection.
    const attackerVault = joinRaw(attacker, vault, bypassHandshake)
    const received: Array<{ action: string, data: Uint8Array }> = []
    const control = attackerVault.makeAction(roomChannelName)
    control.onMessage = (data) => { received.push({ action: roomChannelName, data }) }
    attackerVault.makeAction(docChannelKey('')).onMessage = (data) => { received.push({ action: 'doc', data }) }
    await new Promise<void>((resolve) => { attackerVault.onPeerJoin = (id) => { if (id === victim.selfId) resolve() } })
    // Trystero's check did not hold: the victim's room lists the attacker (the app's handler sees it join).
    await new Promise<void>((resolve) => { v.provider.room!.onPeerJoin = (id) => { if (id === attacker.selfId) resolve() } })
    // What it did then: HELLO and a step 1, as the old attack did. The victim refuses it and closes.
    const refused = nextEvent<[TrysteroYjsError]>(v.provider, 'error', (e) => e.peerId === attacker.selfId, deadline)
    const left = new Promise<void>((resolve) => { attackerVault.onPeerLeave = (id) => { if (id === victim.selfId) resolve() } })
    void control.send(encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: true, channels: [docChannelKey('')], features: 0 }), { target: victim.selfId })
    const [error] = await refused
    expect(error.message).toMatch(/refused admission: sent hello before proving the room key/)
    await left
    expect(received.filter(({ action }) => action === 'doc')).toEqual([])
    // At most our challenge, which may not have reached it before the connection closed.
    expect(received.map(({ data }) => decodeRoomMessage(data)?.type).filter((type) => type !== 'challenge')).toEqual([])
    expect(v.provider.peers).toEqual([])
  })

  it('a wrong key on the lobby connection: refused as a wrong room key, named, and disconnected', async () => {
    const { attacker, victim } = await attackerAndVictimInLobby()
    const vault = roomName('vault')
    const v = provide(victim, vault, { password })
    v.doc.getText('t').insert(0, 'the secret plans')
    await v.provider.whenSynced()
    const wrong = await deriveRoomKeys('a guess', { appId: attacker.config.appId, roomId: vault })
    const left = new Promise<void>((resolve) => { v.provider.room!.onPeerLeave = (id) => { if (id === attacker.selfId) resolve() } })
    const a = provide(attacker, deafToProofs(joinRaw(attacker, vault, bypassHandshake)), { writeKey: wrong.writeKey! })
    a.provider.on('error', () => {})
    const [error] = await nextEvent<[TrysteroYjsError]>(v.provider, 'error', (e) => e.peerId === attacker.selfId, deadline)
    expect(error.message).toMatch(/refused admission: wrong room key/)
    await left
    expect(a.doc.getText('t').toString()).toBe('')
    expect(v.provider.peers).toEqual([])
  })

  it('a viewer receives the document and shows its cursor; its edits are refused by the writer', async () => {
    const room = roomName('published')
    const [wPeer, vPeer] = [await newPeer(), await newPeer()]
    const w = provide(wPeer, room, { password })
    w.doc.getText('t').insert(0, 'read me')
    const { viewKey } = await deriveRoomKeys(password, { appId: wPeer.config.appId, roomId: room })
    const v = provide(vPeer, room, { viewKey })
    await until('the viewer has the text', () => v.provider.synced && v.doc.getText('t').toString() === 'read me',
      [on(v.provider, 'synced'), on(v.doc, 'update')], deadline)
    v.provider.awareness.setLocalStateField('user', { name: 'Vera' })
    await until('the viewer visible at the writer', () => w.provider.awareness.getStates().get(v.doc.clientID)?.['user'] !== undefined,
      [on(w.provider.awareness, 'change')], deadline)
    const refused = nextEvent<[TrysteroYjsError]>(w.provider, 'error', () => true, deadline)
    const vandal = new Y.Doc()
    vandal.getText('t').insert(0, 'vandalised ')
    void v.provider.room!.makeAction(docChannelKey('')).send(syncUpdateEnvelope(Y.encodeStateAsUpdate(vandal)), { target: wPeer.selfId })
    const [error] = await refused
    expect(error.peerId).toBe(vPeer.selfId)
    expect(error.message).toMatch(/update from a viewer refused/)
    expect(w.doc.getText('t').toString()).toBe('read me')
  })

  it("a cursor cannot be taken while its owner is offline; the owner takes it back", async () => {
    const room = roomName('cursors')
    const [aPeer, cPeer, hPeer] = [await newPeer(), await newPeer(), await newPeer()]
    const [a, c, h] = [provide(aPeer, room), provide(cPeer, room), provide(hPeer, room)]
    c.provider.awareness.setLocalStateField('user', { name: 'Cleo' })
    await until('Cleo visible at A', () => a.provider.awareness.getStates().get(c.doc.clientID)?.['user'] !== undefined && a.provider.peers.length === 2 && h.provider.peers.length === 2,
      [on(a.provider.awareness, 'change'), on(a.provider, 'peers'), on(h.provider, 'peers')], deadline)
    await c.provider.disconnect()
    await until('C gone at A', () => !a.provider.awareness.getStates().has(c.doc.clientID), [on(a.provider.awareness, 'change')], deadline)
    const warned = nextEvent<[TrysteroYjsError]>(a.provider, 'warning', (w) => /awareness entry/.test(w.message), deadline)
    const forged = encodeAwarenessEntries([{ clientID: c.doc.clientID, clock: 1000, state: { user: { name: 'Cleo' }, forged: true } }])
    void h.provider.room!.makeAction(docChannelKey('')).send(encodeFrame([{ type: 'awareness', update: forged }]), { target: aPeer.selfId })
    const [warning] = await warned
    expect(warning.peerId).toBe(hPeer.selfId)
    expect(warning.message).toMatch(new RegExp(`peer ${cPeer.selfId} speaks for it`))
    expect(a.provider.awareness.getStates().has(c.doc.clientID)).toBe(false)
    await c.provider.connect()
    await until('Cleo back at A', () => a.provider.awareness.getStates().get(c.doc.clientID)?.['user'] !== undefined,
      [on(a.provider.awareness, 'change')], deadline)
    expect(a.provider.awareness.getStates().get(c.doc.clientID)).not.toHaveProperty('forged')
  })

  it("an edit forged under another peer's client id is refused unapplied, and the owner's real edit still arrives", async () => {
    const room = roomName('forgery')
    const [aPeer, cPeer, hPeer] = [await newPeer(), await newPeer(), await newPeer()]
    const [a, c, h] = [provide(aPeer, room), provide(cPeer, room), provide(hPeer, room)]
    c.doc.getText('t').insert(0, 'hello')
    await until('a synced mesh of 3', () => [a, c, h].every(({ provider }) => provider.synced && provider.peers.length === 2),
      [a, c, h].flatMap(({ provider }) => [on(provider, 'synced'), on(provider, 'peers')]), deadline)
    await converged([a.doc, c.doc, h.doc], (d) => d.getText('t').toString(), deadline)
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(c.doc))
    forger.clientID = c.doc.clientID
    const before = Y.encodeStateVector(forger)
    forger.getText('t').insert(5, ' forged')
    const stateBefore = Y.encodeStateAsUpdate(a.doc)
    const refused = nextEvent<[TrysteroYjsError]>(a.provider, 'error', () => true, deadline)
    void h.provider.room!.makeAction(docChannelKey('')).send(encodeFrame([{ type: 'sync-update', update: Y.encodeStateAsUpdate(forger, before) }]), { target: aPeer.selfId })
    const [error] = await refused
    expect(error.peerId).toBe(hPeer.selfId)
    expect(error.message).toMatch(new RegExp(`edits of client ${c.doc.clientID}, which belongs to peer ${cPeer.selfId}`))
    expect(Y.encodeStateAsUpdate(a.doc)).toEqual(stateBefore)
    c.doc.getText('t').insert(5, ' world')
    await converged([a.doc, c.doc], (d) => d.getText('t').toString(), deadline)
    expect(a.doc.getText('t').toString()).toBe('hello world')
  })
})

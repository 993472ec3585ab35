/** The keeper's command line: flags, their checks, and what the command prints and returns. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseKeeperArgs, parseIceServer, rtcConfigFor } from '../../src/node/keeper/keeper-args.js'
import { keeperBuilt, keeperCli } from '../support/keeper-process.js'

const run = promisify(execFile)
const required = ['--dir', 'data', '--app-id', 'app', '--room', 'a']

describe('parseKeeperArgs', () => {
  it('reads every flag, repeated ones as lists', () => {
    const parsed = parseKeeperArgs([...required, '--room', 'b', '--room', 'a', '--strategy', 'mqtt', '--relay', 'ws://127.0.0.1:8787',
      '--relay', 'wss://broker.example/mqtt', '--password', 's3cret', '--bind', '127.0.0.1', '--ice-server', 'stun:stun.example:3478',
      '--ice-server', 'turn:ada:pw@turn.example:3478', '--upstream', 'ws://127.0.0.1:1234/docs', '--unload-after', '1.5', '--log', 'json'])
    expect(parsed).toEqual({
      kind: 'run',
      config: {
        dir: 'data', appId: 'app', strategy: 'mqtt', rooms: ['a', 'b'], relays: ['ws://127.0.0.1:8787', 'wss://broker.example/mqtt'],
        password: 's3cret', bind: '127.0.0.1',
        iceServers: [{ urls: 'stun:stun.example:3478' }, { urls: 'turn:turn.example:3478', username: 'ada', credential: 'pw' }],
        upstream: 'ws://127.0.0.1:1234/docs', unloadAfterMs: 1500, log: 'json'
      }
    })
  })

  it('defaults: nostr, the strategy\'s relays, ten minutes before unloading, text logs', () => {
    expect(parseKeeperArgs(required)).toEqual({
      kind: 'run',
      config: { dir: 'data', appId: 'app', strategy: 'nostr', rooms: ['a'], relays: [], password: undefined, bind: undefined, iceServers: [], upstream: undefined, unloadAfterMs: 600_000, log: 'text' }
    })
    expect(parseKeeperArgs([...required, '--unload-after', '0'])).toMatchObject({ config: { unloadAfterMs: Infinity } })
  })

  it.each([
    [['--app-id', 'app', '--room', 'a'], '--dir is required'],
    [['--dir', 'd', '--room', 'a'], '--app-id is required'],
    [['--dir', 'd', '--app-id', 'app'], 'at least one --room is required'],
    [[...required, '--room', ''], '--room must not be empty'],
    [[...required, '--strategy', 'supabase'], '--strategy must be one of mqtt, nostr, torrent, got "supabase"'],
    [[...required, '--relay', 'http://x'], '--relay must be a ws:// or wss:// URL, got "http://x"'],
    [[...required, '--bind', 'localhost'], '--bind must be an IP address, got "localhost"'],
    [[...required, '--ice-server', 'http://x'], '--ice-server must be a stun: or turn: URL, got "http://x"'],
    [[...required, '--upstream', 'localhost:1234'], '--upstream must be a ws:// or wss:// URL, got "localhost:1234"'],
    [[...required, '--unload-after', 'soon'], '--unload-after must be a number of seconds (0: never), got "soon"'],
    [[...required, '--unload-after=-1'], '--unload-after must be a number of seconds (0: never), got "-1"'],
    [[...required, '--log', 'xml'], '--log must be text or json, got "xml"'],
    [[...required, 'extra'], 'unexpected argument "extra"'],
    [[...required, '--colour'], 'Unknown option \'--colour\''],
    [[...required, '--dir'], 'Option \'--dir <value>\' argument missing']
  ])('%j: %s', (argv, message) => {
    expect(parseKeeperArgs(argv)).toEqual({ kind: 'error', message })
  })

  it('turns --bind and --ice-server into Trystero\'s rtcConfig; neither keeps Trystero\'s defaults', () => {
    expect(rtcConfigFor({ bind: '127.0.0.1', iceServers: [] })).toEqual({ iceServers: [], bindAddress: '127.0.0.1' })
    expect(rtcConfigFor({ bind: undefined, iceServers: [{ urls: 'stun:s:1' }] })).toEqual({ iceServers: [{ urls: 'stun:s:1' }] })
    expect(rtcConfigFor({ bind: undefined, iceServers: [] })).toBeUndefined()
    expect(parseIceServer('turns:u:p@t.example:443?transport=tcp')).toEqual({ urls: 'turns:t.example:443?transport=tcp', username: 'u', credential: 'p' })
  })
})

describe.skipIf(!keeperBuilt)('trystero-yjs-keeper (the built command)', () => {
  it('prints its usage with --help and exits 0', async () => {
    const { stdout } = await run(process.execPath, [keeperCli, '--help'])
    expect(stdout).toMatch(/^usage: trystero-yjs-keeper --dir DIR --app-id ID --room NAME/)
    for (const flag of ['--strategy', '--relay', '--password', '--bind', '--ice-server', '--upstream', '--unload-after', '--log']) expect(stdout).toContain(flag)
  })

  it('a bad flag: one line on stderr, exit code 2, nothing started', async () => {
    const failure = await run(process.execPath, [keeperCli, ...required, '--strategy', 'carrier-pigeon']).catch((error: { code: number, stdout: string, stderr: string }) => error)
    expect(failure).toMatchObject({ code: 2, stdout: '' })
    expect((failure as { stderr: string }).stderr).toBe('trystero-yjs-keeper: --strategy must be one of mqtt, nostr, torrent, got "carrier-pigeon" (see --help)\n')
  })
})

/**
 * A slow link between two peers, made of Linux network namespaces (needs root and `ip`/`tc`):
 *
 * ```
 *   coordinator (signaling) ── 10.79.1.0/30 ── ns tyc-a ══ 10.79.0.0/30, rate-limited ══ ns tyc-b ── 10.79.2.0/30 ── coordinator
 * ```
 *
 * The peers' data channels bind to the middle link, whose two ends have a token-bucket filter
 * (`tc qdisc … tbf rate <rate>`): the kernel holds the rate, SCTP and DTLS overhead included.
 * Signaling goes over the side links, unshaped (the measure starts when the data channel opens).
 *
 * The propagation delay cannot come from the kernel here: this one has no netem (nor fq, for
 * timestamps) — `CONFIG_NET_SCH_NETEM is not set`, checked in `setUp`. Each peer process holds its
 * data-channel messages for the one-way delay instead (PeerConfig.sendDelayMs), which delays what
 * the providers see but not SCTP's own acknowledgements: SCTP's window opens faster than on a real
 * link of that RTT, which favours the side that sends more bytes.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface ShapedLink {
  /** Network namespace, data-channel address, and how that namespace reaches the coordinator. */
  ends: [ShapedEnd, ShapedEnd]
  rateMbit: number
  oneWayDelayMs: number
  /** How the delay is made: `netem` (kernel) or `in-process` (each peer holds its messages). */
  delayBy: 'netem' | 'in-process'
  tearDown: () => Promise<void>
}

export interface ShapedEnd {
  netns: string
  dataAddress: string
  coordinatorAddress: string
}

const names = { a: 'tyc-a', b: 'tyc-b' }

const sh = async (command: string): Promise<string> => (await run('sh', ['-c', command])).stdout

const removeAll = async (): Promise<void> => {
  for (const ns of Object.values(names)) await sh(`ip netns del ${ns} 2>/dev/null || true`)
  for (const link of ['tyc-ra', 'tyc-rb']) await sh(`ip link del ${link} 2>/dev/null || true`)
}

/** Makes the namespaces and links; throws with the reason when this machine does not allow it. */
export const setUpShapedLink = async (rateMbit = 10, oneWayDelayMs = 20): Promise<ShapedLink> => {
  if (process.getuid?.() !== 0) throw new Error('network namespaces need root')
  await removeAll()
  const { a, b } = names
  await sh([
    `ip netns add ${a}`, `ip netns add ${b}`,
    `ip -n ${a} link set lo up`, `ip -n ${b} link set lo up`,
    // Side links to the coordinator (signaling).
    `ip link add tyc-ra type veth peer name tyc-ar`, `ip link set tyc-ar netns ${a}`,
    `ip addr add 10.79.1.1/30 dev tyc-ra`, `ip link set tyc-ra up`,
    `ip -n ${a} addr add 10.79.1.2/30 dev tyc-ar`, `ip -n ${a} link set tyc-ar up`,
    `ip link add tyc-rb type veth peer name tyc-br`, `ip link set tyc-br netns ${b}`,
    `ip addr add 10.79.2.1/30 dev tyc-rb`, `ip link set tyc-rb up`,
    `ip -n ${b} addr add 10.79.2.2/30 dev tyc-br`, `ip -n ${b} link set tyc-br up`,
    // The shaped link between the peers.
    `ip link add tyc-ab netns ${a} type veth peer name tyc-ba netns ${b}`,
    `ip -n ${a} addr add 10.79.0.1/30 dev tyc-ab`, `ip -n ${a} link set tyc-ab up`,
    `ip -n ${b} addr add 10.79.0.2/30 dev tyc-ba`, `ip -n ${b} link set tyc-ba up`
  ].join(' && ')).catch(async (error: unknown) => {
    await removeAll()
    throw new Error(`cannot make network namespaces: ${(error as Error).message}`)
  })
  // Netem would give rate and delay in the kernel; without it, tbf for the rate.
  let delayBy: ShapedLink['delayBy'] = 'netem'
  try {
    for (const [ns, dev] of [[a, 'tyc-ab'], [b, 'tyc-ba']]) await sh(`ip netns exec ${ns} tc qdisc add dev ${dev} root netem rate ${rateMbit}mbit delay ${oneWayDelayMs}ms limit 1000`)
  } catch {
    delayBy = 'in-process'
    try {
      for (const [ns, dev] of [[a, 'tyc-ab'], [b, 'tyc-ba']]) {
        await sh(`ip netns exec ${ns} tc qdisc del dev ${dev} root 2>/dev/null || true`)
        // A bucket of 16 KB, and room for 100 ms of traffic queued (as a home router's buffer).
        await sh(`ip netns exec ${ns} tc qdisc add dev ${dev} root tbf rate ${rateMbit}mbit burst 16kb latency 100ms`)
      }
    } catch (error) {
      await removeAll()
      throw new Error(`cannot shape the link (tc tbf): ${(error as Error).message}`)
    }
  }
  return {
    ends: [
      { netns: a, dataAddress: '10.79.0.1', coordinatorAddress: '10.79.1.1' },
      { netns: b, dataAddress: '10.79.0.2', coordinatorAddress: '10.79.2.1' }
    ],
    rateMbit,
    oneWayDelayMs,
    delayBy,
    tearDown: removeAll
  }
}

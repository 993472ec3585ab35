/**
 * A comparison scenario: a script of writes and network events, played at the same virtual times
 * against an LWW map and a Y.Map on every replica (src/compare/run-scenario.ts).
 */
import type { JsonValue } from '../lww/json-value.js'

export interface ScenarioReplica {
  /** A short name: `A`, `B`, … (also the LWW writer id). */
  id: string
  /** The replica's Yjs client id, fixed so that runs are reproducible. */
  clientId: number
  /** This replica's clock runs this many ms fast (wall clock and HLC physical time). */
  clockSkewMs?: number
  /** Joins the room at this virtual time instead of at 0: a late joiner. */
  joinAt?: number
}

/** One step of a script, at a virtual time: a write, a replica going offline or online, a partition or its healing. */
export type ScenarioStep =
  | { at: number, replica: string, set: string, value: JsonValue }
  | { at: number, replica: string, delete: string }
  /** Cut every link of the replica (its edits stay local until `online`). */
  | { at: number, offline: string }
  | { at: number, online: string }
  /** Replicas in different groups cannot reach each other; unlisted ones form one more group. */
  | { at: number, partition: string[][] }
  | { at: number, heal: true }

/** A script played the same way against LWW (wall clock), LWW (HLC) and Y.Map. */
export interface Scenario {
  /** A short id, e.g. `clock-skew`. */
  id: string
  /** A title for tables and the demo. */
  title: string
  /** The question the scenario asks, in one or two sentences. */
  question: string
  /** The replicas; the first one's values are those reported. */
  replicas: ScenarioReplica[]
  /** Virtual ms per message: fixed, or `[min, max]` drawn with `seed`. */
  latencyMs: number | [number, number]
  /** Seed of the simulated network (latency drawn from a range). Default 1. */
  seed?: number
  /** The script, in any order of `at`. */
  steps: ScenarioStep[]
  /** Keys whose value the report shows; default: every key if 4 or fewer. */
  focusKeys?: string[]
}

export const isWrite = (step: ScenarioStep): step is Extract<ScenarioStep, { replica: string }> => 'replica' in step

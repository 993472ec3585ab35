declare module 'bittorrent-tracker/server' {
  import type { Server as HttpServer } from 'node:http'
  import type { EventEmitter } from 'node:events'
  export default class Server extends EventEmitter {
    constructor (options: { udp?: boolean, http?: boolean, ws?: boolean, stats?: boolean, interval?: number })
    http: HttpServer
    listen (port: number, host: string, onListening: () => void): void
    close (callback: () => void): void
  }
}

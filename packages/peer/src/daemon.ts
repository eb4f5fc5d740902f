import { DEFAULT_API } from './constants.ts'
import { dashboardUrl } from './dashboard-files.ts'
import { HttpApi } from './http-api.ts'
import { MemoryGovernor } from './memory-governor.ts'
import { createPeer } from './peer.ts'
import type { IonNetPeer, PeerInit } from './peer.ts'

/** A peer plus its local HTTP API, as `ionnet peer start` runs it. */
export interface Daemon {
  peer: IonNetPeer
  /** Base URL of the HTTP API. */
  apiUrl: string
  /** The dashboard's address with the API token in its fragment: open it in a browser on this machine. */
  dashboardUrl: string
  stop(): Promise<void>
}

export interface DaemonInit extends PeerInit {
  /** host:port of the HTTP API (loopback by default). */
  api?: string
}

/** Starts a peer and its API, and writes the API's address and token into the repo for the CLI to find. */
export async function startDaemon (init: DaemonInit): Promise<Daemon> {
  const peer = await createPeer(init)
  const governor = new MemoryGovernor()
  governor.start()
  let api: HttpApi | undefined
  let token: string
  try {
    token = await peer.repo.token()
    api = new HttpApi({ peer, token }, { address: init.api ?? DEFAULT_API })
    await api.start()
    await peer.repo.writeApi({ url: api.url, token, pid: process.pid })
  } catch (err) {
    governor.stop()
    await api?.stop()
    await peer.stop()
    throw err
  }
  const started = api
  let stopping: Promise<void> | undefined
  return {
    peer,
    apiUrl: started.url,
    dashboardUrl: dashboardUrl(started.url, token),
    stop: async () => {
      stopping ??= (async () => {
        governor.stop()
        await peer.repo.removeApi()
        await started.stop()
        await peer.stop()
      })()
      return stopping
    }
  }
}

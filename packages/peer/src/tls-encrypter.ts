import { Socket } from 'node:net'
import { TLSSocket, connect } from 'node:tls'
import { InvalidCryptoExchangeError, TimeoutError, serviceCapabilities } from '@libp2p/interface'
import { tls } from '@libp2p/tls'
import type { ComponentLogger, ConnectionEncrypter, Logger, MessageStream, PeerId, PrivateKey, SecureConnectionOptions, SecuredConnection, StreamMuxerFactory, Upgrader } from '@libp2p/interface'

/** What `@libp2p/tls` needs from libp2p, and so this encrypter too. */
export interface TlsComponents {
  privateKey: PrivateKey
  logger: ComponentLogger
  upgrader: Upgrader
}

/** How many connections took each path, for tests and benchmarks. */
export const tlsConnections = { onSocket: 0, onStream: 0 }

/**
 * libp2p's TLS 1.3 encrypter (`/tls/1.0.0`, with `@libp2p/tls`'s own certificates and checks), except that on a
 * bare TCP connection TLS runs on the socket itself. `@libp2p/tls` runs it on a JavaScript stream wrapped around the
 * connection, so every record crosses between C++ and JavaScript twice more; on the socket, Node encrypts and
 * decrypts in C++ as bytes come and go (a bare libp2p stream: 638–673 MiB/s against 412–433). It also keeps one
 * certificate for all its connections, as the spec allows, where `@libp2p/tls` makes a key pair and signs a new one
 * for each (a connection with identify: 17 ms of CPU for both ends against 23). Anything else (a private swarm's
 * pnet stream, bytes already read past the protocol choice, a `@libp2p/tls` that no longer looks as expected) goes
 * through `@libp2p/tls` unchanged; both ends speak the same protocol either way.
 */
export function nativeTls (init: NativeTlsInit = {}): (components: TlsComponents) => ConnectionEncrypter {
  return (components) => new NativeTls(components, init)
}

export interface NativeTlsInit {
  /**
   * Called whenever bytes arrive from `peer` on a connection whose socket TLS runs on (a record of 16 KiB at most):
   * the peer is there, though a yamux frame it sends may take seconds to arrive whole on a slow link.
   */
  onBytesFrom?(peer: string): void
}

// @libp2p/tls's certificate and stream helpers: its package exports only the encrypter, so they are loaded from
// beside its entry point, at the version the lockfile pins; if they are not there, every connection takes the
// library's own path
interface TlsHelpers {
  generateCertificate(privateKey: PrivateKey): Promise<{ cert: string, key: string }>
  verifyPeerCertificate(raw: Uint8Array, expected?: PeerId): Promise<PeerId>
  toMessageStream(stream: MessageStream, socket: TLSSocket): MessageStream
}
const helpers: TlsHelpers | undefined = await import(new URL('./utils.js', import.meta.resolve('@libp2p/tls')).href)
  .then((m: Partial<TlsHelpers>) => typeof m.generateCertificate === 'function' && typeof m.verifyPeerCertificate === 'function' && typeof m.toMessageStream === 'function' ? m as TlsHelpers : undefined)
  .catch(() => undefined)

/** A connection read straight from a TCP socket: `@libp2p/tcp`'s, before any pnet wrapper. */
type TcpConnection = MessageStream & {
  socket: Socket
  readBuffer: { byteLength: number }
}

class NativeTls implements ConnectionEncrypter {
  readonly protocol = '/tls/1.0.0'
  readonly [Symbol.toStringTag] = '@ionnet/tls'
  readonly [serviceCapabilities] = ['@libp2p/connection-encryption']
  readonly #components: TlsComponents
  readonly #library: ConnectionEncrypter
  readonly #log: Logger
  readonly #onBytesFrom?: (peer: string) => void
  #certificate?: Promise<{ cert: string, key: string }>

  constructor (components: TlsComponents, init: NativeTlsInit) {
    this.#components = components
    this.#onBytesFrom = init.onBytesFrom
    this.#library = tls()(components as any)
    this.#log = components.logger.forComponent('ionnet:tls')
  }

  async secureInbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return await this.#encrypt(connection, true, options)
  }

  async secureOutbound (connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return await this.#encrypt(connection, false, options)
  }

  async #encrypt (connection: MessageStream, isServer: boolean, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    if (helpers != null && onSocket(connection)) return await this.#secure(helpers, connection, isServer, options)
    tlsConnections.onStream++
    return isServer ? await this.#library.secureInbound(connection, options) : await this.#library.secureOutbound(connection, options)
  }

  async #secure (helpers: TlsHelpers, connection: TcpConnection, isServer: boolean, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    tlsConnections.onSocket++
    // before anything is awaited: from here on the socket's bytes are for TLS only
    const raw = detach(connection)
    // a failed attempt is not kept: the next connection tries again
    this.#certificate ??= helpers.generateCertificate(this.#components.privateKey).catch(err => {
      this.#certificate = undefined
      throw err
    })
    let certificate
    try {
      certificate = await this.#certificate
      options?.signal?.throwIfAborted()
    } catch (err: any) {
      connection.abort(err)
      throw err
    }
    const upgrader = this.#components.upgrader
    const muxers = options?.skipStreamMuxerNegotiation === true ? [] : [...upgrader.getStreamMuxers().keys()]
    let streamMuxer: StreamMuxerFactory | undefined
    const settings = {
      ...certificate,
      minVersion: 'TLSv1.3' as const,
      maxVersion: 'TLSv1.3' as const,
      // certificates are self-signed: the libp2p extension inside is what gets checked, once the handshake is done
      rejectUnauthorized: false,
      // the muxer is agreed during the handshake (ALPN); 'libp2p' means "negotiate it afterwards"
      ALPNProtocols: [...muxers, 'libp2p'],
      ALPNCallback: ({ protocols }: { protocols: string[] }) => {
        for (const protocol of protocols) {
          streamMuxer = upgrader.getStreamMuxers().get(protocol)
          if (streamMuxer != null) return protocol
        }
        return protocols.includes('libp2p') ? 'libp2p' : undefined
      }
    }
    const socket = isServer
      ? new TLSSocket(raw, { ...settings, isServer: true, requestCert: true })
      : connect({ ...settings, socket: raw })

    return await new Promise<SecuredConnection>((resolve, reject) => {
      const fail = (err: Error): void => {
        options?.signal?.removeEventListener('abort', onAbort)
        this.#log.error('securing %s connection failed - %e', connection.direction, err)
        socket.destroy()
        connection.abort(err)
        reject(err)
      }
      const onAbort = (): void => { fail(new TimeoutError('TLS handshake timed out')) }
      options?.signal?.addEventListener('abort', onAbort, { once: true })
      socket.on('error', fail)
      socket.once('secure', () => {
        helpers.verifyPeerCertificate(socket.getPeerCertificate().raw, options?.remotePeer).then(remotePeer => {
          if (!isServer && muxers.length > 0 && typeof socket.alpnProtocol === 'string' && socket.alpnProtocol !== 'libp2p') {
            streamMuxer = upgrader.getStreamMuxers().get(socket.alpnProtocol)
            if (streamMuxer == null) throw new InvalidCryptoExchangeError(`the remote chose muxer ${socket.alpnProtocol}, which we do not have`)
          }
          options?.signal?.removeEventListener('abort', onAbort)
          // from here the secured stream handles the socket's errors: it aborts the connection
          socket.off('error', fail)
          const heard = this.#onBytesFrom
          if (heard != null) {
            const from = remotePeer.toString()
            socket.on('data', () => { heard(from) })
          }
          resolve({ remotePeer, connection: helpers.toMessageStream(connection, socket), streamMuxer })
        }).catch(fail)
      })
    })
  }
}

/**
 * Whether TLS can take the connection's socket: a TCP socket that is open, and no bytes past the protocol choice
 * read into the connection yet (those would be the start of the handshake; the library's path replays them).
 */
function onSocket (connection: MessageStream): connection is TcpConnection {
  const c = connection as Partial<TcpConnection>
  return c.socket instanceof Socket && c.socket.readyState === 'open' && c.readBuffer?.byteLength === 0
}

/**
 * Stops the libp2p connection reading the socket, so TLS reads it instead: what the socket itself has buffered
 * (while paused) is handed to TLS by Node when it wraps the socket. The socket's idle timeout and the connection's
 * handling of it stay: Node counts the TLS socket's traffic as the wrapped socket's own.
 */
function detach (connection: TcpConnection): Socket {
  const raw = connection.socket
  raw.pause()
  raw.removeAllListeners('data')
  return raw
}

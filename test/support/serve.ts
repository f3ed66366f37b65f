/** `mailtime serve` started as a user starts it, for the API and browser tests: its address, and a stop. */
import { type CliResult, mailtimeAsync } from './cli'

export interface Served {
  readonly base: string
  /** Stops the server (SIGTERM) and returns what it printed. */
  stop(): Promise<CliResult>
}

/** `global` are the flags before the verb (--store …), `attrs` the words after `serve port 0`. */
export const startServe = async (global: readonly string[], attrs: readonly string[], env: Record<string, string>): Promise<Served> => {
  const server = mailtimeAsync([...global, 'serve', 'port', '0', ...attrs], env)
  const base = await new Promise<string>((resolve, reject) => {
    let out = ''
    server.child.stdout?.on('data', (b: Buffer) => {
      out += b.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m?.[1] !== undefined) resolve(m[1])
    })
    void server.done.then((r) => reject(new Error(`serve exited ${r.code}: ${r.stderr}`)))
  })
  return {
    base,
    stop: async () => {
      server.child.kill('SIGTERM')
      return server.done
    },
  }
}

/**
 * The API token: from MAILTIME_API_TOKEN, else the config file's `api.token`, else a token file
 * beside the data (`<data>/api-token`), which `serve` creates on first use, readable by its owner
 * only. The token is never printed: the file's path is, so that whoever started the server can
 * hand the token to the page, and nobody reading the terminal or a log can.
 */
import { randomBytes } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { type Settings, defaultBlobsFor } from '../config'
import { isS3Location } from '../blobs/blobLocation'

export interface ApiToken {
  readonly token: string
  /** Where it came from, for the start-up line (never the token itself). */
  readonly source: string
  readonly created: boolean
}

const MIN = 16

/** Beside the blob folder; with blobs in S3, where that folder would be by default. */
export const tokenFileOf = (settings: Settings): string => path.resolve(path.dirname(isS3Location(settings.blobs) ? defaultBlobsFor(settings.store) : settings.blobs), 'api-token')

export const resolveApiToken = (settings: Settings): E.Either<string, ApiToken> => {
  const given = settings.config.api?.token
  if (given !== undefined) {
    if (given.length < MIN) return E.left(`serve: the API token must be at least ${MIN} characters (MAILTIME_API_TOKEN or api.token in the config file)`)
    return E.right({ token: given, source: settings.apiTokenFromEnv ? 'MAILTIME_API_TOKEN' : 'the config file (api.token)', created: false })
  }
  const file = tokenFileOf(settings)
  try {
    if (fs.existsSync(file)) {
      const mode = fs.statSync(file).mode & 0o077
      if (mode !== 0) return E.left(`serve: ${file} can be read by other users; chmod 600 it (or delete it to get a new token)`)
      const token = fs.readFileSync(file, 'utf8').trim()
      if (token.length < MIN) return E.left(`serve: the token in ${file} is shorter than ${MIN} characters; delete the file to get a new one`)
      return E.right({ token, source: file, created: false })
    }
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const token = randomBytes(24).toString('hex')
    // 'wx': never overwrite a token another server just wrote.
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' })
    return E.right({ token, source: file, created: true })
  } catch (e) {
    return E.left(`serve: cannot read or create the token file ${file}: ${(e as Error).message}; set MAILTIME_API_TOKEN instead`)
  }
}

#!/usr/bin/env node
/**
 * The `mailtime` command: global flags, Carbonio-style verbs, and the one place where failures
 * become a line on stderr and an exit code (a stack trace only with --debug).
 */
import * as os from 'os'
import { Command, CommanderError, Option } from 'commander'
import * as E from 'fp-ts/Either'
import { type Instant, instant } from '../../domain/instant'
import { type Backend, openStoreBackend } from '../wiring/backend'
import { noPasswordOnArgv, withEsdbPassword } from './storeLocation'
import { type GlobalFlags, blobSpecOf, resolveSettings } from '../config'
import { systemZone, validZone } from '../time/dates'
import { StoreErrorRaised, describeStoreError } from '../../projections/errors'
import { AppFailure } from '../app/errors'
import { CliFailure, ExitCode, failureJson, fromAppError, fromConfigError, fromDateError, fromStoreError, usage } from './failure'
import { type Context, type Verb, parseWords, usageLine } from './grammar'
import { silentProgress, ttyProgress } from './progress'
import { stableStringify } from './stableJson'
import { gateTestSwitches } from './testSwitches'
import { VERBS } from './verbs'

export interface Io {
  readonly stdout: (s: string) => void
  readonly stderr: (s: string) => void
  readonly env: Readonly<Record<string, string | undefined>>
  readonly isTTY: boolean
}

const VALUE_FLAGS = new Set(['--store', '--blobs', '--index', '--tz', '--config'])

/** Verb names are case-insensitive, as in Carbonio: rewrite the first word to its canonical name. */
export const canonicalVerb = (argv: readonly string[]): string[] => {
  const out = [...argv]
  for (let i = 0; i < out.length; i++) {
    const w = out[i] ?? ''
    if (VALUE_FLAGS.has(w)) {
      i++
      continue
    }
    if (w.startsWith('-')) continue
    const v = VERBS.find((x) => x.name.toLowerCase() === w.toLowerCase())
    if (v !== undefined) out[i] = v.name
    break
  }
  return out
}

const verbHelp = (v: Verb): string =>
  [
    '',
    `Usage: ${usageLine(v)}`,
    ...(v.positionals.length ? ['', 'Arguments:', ...v.positionals.map((p) => `  ${p.name.padEnd(22)} ${p.help}`)] : []),
    ...(v.attributes.length ? ['', 'Attributes:', ...v.attributes.map((a) => `  ${a.name.padEnd(22)} ${a.help}`)] : []),
    '',
    'Examples:',
    ...v.examples.map((e) => `  ${e}`),
    '',
    'Exit codes: 0 ok, 2 usage or bad date, 3 unknown account or item, 4 store error' + (v.exitCodes?.length ? `; ${v.exitCodes.join('; ')}` : ''),
  ].join('\n')

const execute = async (verb: Verb, words: string[], flags: GlobalFlags, io: Io): Promise<number> => {
  if (flags.store !== undefined) noPasswordOnArgv(flags.store)
  if (flags.index !== undefined) noPasswordOnArgv(flags.index)
  const gated = gateTestSwitches(io.env, verb.name)
  if (E.isLeft(gated)) throw usage(gated.left)
  for (const w of gated.right.warnings) io.stderr(`${w}\n`)
  const settingsE = resolveSettings(flags, gated.right.env, systemZone(), () => os.userInfo().username)
  if (E.isLeft(settingsE)) throw fromConfigError(settingsE.left)
  const settings = settingsE.right
  const z = validZone(settings.zone)
  if (E.isLeft(z)) throw fromDateError(z.left)
  const blobs = blobSpecOf(settings)
  if (E.isLeft(blobs)) throw usage(blobs.left)
  const args = parseWords(verb, words)
  if (E.isLeft(args)) throw new CliFailure(args.left, ExitCode.USAGE)
  let backend: Backend | undefined
  const quiet = settings.quiet || settings.json
  const ctx: Context = {
    settings,
    zone: settings.zone,
    backend: async () => {
      if (backend !== undefined) return backend
      const b = await openStoreBackend(withEsdbPassword(settings.store, settings.esdbPassword), blobs.right, settings.index)
      if (E.isLeft(b)) throw fromStoreError(b.left)
      backend = b.right
      return backend
    },
    now: clockOf(settings.test.now),
    progress: !quiet && io.isTTY ? ttyProgress(process.stderr) : silentProgress,
    note: (line) => {
      if (!quiet) io.stderr(`${line}\n`)
    },
    warn: (line) => {
      if (!settings.quiet) io.stderr(`${line}\n`)
    },
    emitLine: (line) => io.stdout(`${line}\n`),
  }
  try {
    const out = await verb.run(ctx, args.right)
    io.stdout(settings.json ? `${stableStringify(out.json, out.jsonLine === true ? 0 : 2)}\n` : `${out.text}\n`)
    if (out.error !== undefined) io.stderr(`mailtime: ${out.error}\n`)
    return out.exitCode ?? ExitCode.OK
  } finally {
    await backend?.close()
  }
}

/**
 * A parse error of commander's as one line in our own form: `mailtime: unknown verb "getitm" (did
 * you mean getItem?)` rather than its `error: unknown command 'getitm'` and a second line.
 */
export const commanderError = (raw: string): string => {
  const verb = /^error: unknown command '(.*)'(?:\s*\(Did you mean (.*)\?\))?/.exec(raw.trim())
  if (verb !== null) return `mailtime: unknown verb ${JSON.stringify(verb[1])} (${verb[2] !== undefined ? `did you mean ${verb[2]}?` : 'mailtime --help lists the verbs'})\n`
  return `mailtime: ${raw
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')}\n`
}

/** The clock: the real one, or (test-only, testSwitches.ts; refused for capture) MAILTIME_NOW, an ISO-8601 instant. */
const clockOf = (raw: string | undefined): (() => Instant) => {
  if (raw === undefined) return () => instant(Date.now())
  const t = Date.parse(raw)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(t)) throw usage(`MAILTIME_NOW must be an ISO-8601 instant such as 2026-03-01T12:00:00Z, got ${JSON.stringify(raw)}`)
  return () => instant(t)
}

export const runCli = async (argv: readonly string[], io: Io): Promise<number> => {
  let code: number = ExitCode.OK
  const debug = argv.includes('--debug')
  const program = new Command('mailtime')
    .description('Point-in-time backup and restore for mailboxes. Every change is an event; any instant can be inspected and restored.')
    .version(require('../../../package.json').version as string)
    .addOption(
      new Option(
        '--store <location>',
        'event store: sqlite:<file>, postgres://user@host/db or esdb://host:2113 (env MAILTIME_STORE; passwords go in PGPASSWORD, MAILTIME_ESDB_PASSWORD)',
      ).default(undefined, 'sqlite:./mailtime-data/mailtime.db'),
    )
    .addOption(
      new Option(
        '--index <location>',
        'with an esdb:// store: the SQLite file or postgres:// database that holds its copy, temporal index and operations (env MAILTIME_INDEX)',
      ).default(undefined, 'sqlite:./mailtime-data/esdb-index.db'),
    )
    .option(
      '--blobs <location>',
      'blob store: a folder or s3://bucket/prefix (env MAILTIME_BLOBS; S3 server in MAILTIME_S3_ENDPOINT, credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; default: blobs/ beside the SQLite file)',
    )
    .option('--tz <zone>', 'time zone for dates in and out (env MAILTIME_TZ; default: config, then system)')
    .option('--config <file>', 'JSON config file (env MAILTIME_CONFIG)')
    .option('--json', 'machine-readable output (stable, documented in docs/cli.md)')
    .option('--quiet', 'no progress and no notes on stderr')
    .option('--debug', 'stack traces on errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s), outputError: (s, write) => write(commanderError(s)) })
    .addHelpText('after', '\nRun "mailtime <verb> --help" for a verb\'s attributes. Exit codes: docs/cli.md.')
  for (const v of VERBS) {
    program
      .command(v.name)
      .description(v.summary)
      .argument('[words...]', 'positionals, then attribute value pairs')
      .addHelpText('after', verbHelp(v))
      .action(async (words: string[], _o: unknown, cmd: Command) => {
        code = await execute(v, words, cmd.optsWithGlobals() as GlobalFlags, io)
      })
  }
  // With --json, a failure is a JSON document on stdout too (a script reads one document whatever
  // happened), beside its line on stderr.
  const json = argv.includes('--json')
  const failed = (message: string, exitCode: number): number => {
    io.stderr(`mailtime: ${message}\n`)
    if (json) io.stdout(`${stableStringify(failureJson(message, exitCode), 2)}\n`)
    return exitCode
  }
  try {
    await program.parseAsync(canonicalVerb(argv), { from: 'user' })
    return code
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK
      // Commander has written its line to stderr already (outputError).
      if (json)
        io.stdout(
          `${stableStringify(
            failureJson(
              commanderError(e.message)
                .replace(/^mailtime: /, '')
                .trim(),
              ExitCode.USAGE,
            ),
            2,
          )}\n`,
        )
      return ExitCode.USAGE
    }
    if (e instanceof StoreErrorRaised) e = fromStoreError(e.error)
    if (e instanceof AppFailure) e = fromAppError(e.error)
    if (e instanceof CliFailure) {
      const c = failed(e.message, e.exitCode)
      if (debug) io.stderr(`${e.stack ?? ''}\n`)
      return c
    }
    if (typeof e === 'object' && e !== null && '_tag' in e) return failed(describeStoreError(e as never), ExitCode.STORE)
    const c = failed(`internal error: ${e instanceof Error ? e.message : String(e)}${debug ? '' : ' (run with --debug for details)'}`, ExitCode.INTERNAL)
    if (debug && e instanceof Error) io.stderr(`${e.stack ?? ''}\n`)
    return c
  }
}

if (require.main === module) {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  })
  void runCli(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
  }).then((code) => {
    process.exitCode = code
  })
}

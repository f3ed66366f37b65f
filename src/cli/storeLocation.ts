/**
 * Store locations given on the command line: they must not carry a password (argv is visible to
 * every user of the machine); passwords come from the environment instead.
 */
import { usage } from './failure'

const WITH_PASSWORD = /^(postgres(ql)?|esdb(\+discover)?):\/\/[^/@:]+:[^@/]*@/i

/** Refuses a location whose URL carries a password; returns it unchanged otherwise. */
export const noPasswordOnArgv = (location: string): string => {
  if (WITH_PASSWORD.test(location))
    throw usage(
      'a store URL must not carry a password on the command line: set PGPASSWORD (or use ~/.pgpass) for PostgreSQL, MAILTIME_ESDB_PASSWORD for EventStoreDB, or put the URL in MAILTIME_STORE',
    )
  return location
}

/** An EventStoreDB URL with a user and no password gets MAILTIME_ESDB_PASSWORD's. */
export const withEsdbPassword = (location: string, password: string | undefined): string =>
  password === undefined || !/^esdb(\+discover)?:\/\/[^/@:]+@/i.test(location)
    ? location
    : location.replace(/^(esdb(\+discover)?:\/\/[^/@:]+)@/i, (_, head: string) => `${head}:${encodeURIComponent(password)}@`)

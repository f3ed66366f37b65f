/**
 * One mailbox.log record: the log4j layout `%d %-5p [%t] [%z] %c{1} - %m` of Zimbra and Carbonio,
 * with stack-trace continuation lines attached to the record before them. Pure parsing; times stay
 * local strings until the importer reads them in the source's zone.
 */
export interface LogRecord {
  /** `yyyy-MM-dd HH:mm:ss,SSS`, in the mail server's local time. */
  readonly timestamp: string
  readonly level: string
  readonly thread: string
  /** The raw `[%z]` text; `parseContext` reads it (only change lines need it, so it is left raw). */
  readonly contextRaw: string
  readonly logger: string
  readonly message: string
  /** Lines that followed without a timestamp (stack traces, ExceptionId, Code). */
  readonly continuation: readonly string[]
}

// The level may be followed by one or more spaces; the context may be empty.
const LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{1,3}) +([A-Z]+) +\[(.*?)\] +\[(.*?)\] +(\S+) +- ?(.*)$/

export const startsRecord = (line: string): boolean => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(line)

/** The `key=value;` pairs of the context brackets; a value may itself hold spaces and `;` (user agents do). */
export const parseContext = (raw: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const m of raw.matchAll(/([A-Za-z]+)=(.*?)(?=;[A-Za-z]+=|;?$)/g)) out[m[1] as string] = (m[2] as string).trim()
  return out
}

export const parseRecordLine = (line: string): LogRecord | undefined => {
  const m = LINE.exec(line)
  if (m === null) return undefined
  return {
    timestamp: m[1] as string,
    level: m[2] as string,
    thread: m[3] as string,
    contextRaw: m[4] as string,
    logger: m[5] as string,
    message: (m[6] as string).trimEnd(),
    continuation: [],
  }
}

/** The SOAP request a Jetty thread was serving (`…/service/soap/MsgActionRequest`), kept as provenance. */
export const soapRequestOf = (thread: string): string | undefined => /\/service\/soap\/([A-Za-z]+Request)/.exec(thread)?.[1]

/**
 * The hash chain over an export's timeline: each line carries the hash of the line before it and
 * its own hash over (previous hash, its event), so deleting, inserting or reordering a single line
 * breaks the chain at that line, and the manifest's head pins the last one.
 */
import { createHash, hash } from 'crypto'

export const GENESIS = createHash('sha256').update('mailtime-export-v1').digest('hex')

/** The hash of one timeline entry: SHA-256 of the previous hash, a newline, and the event's JSON. */
export const chainHash = (prev: string, eventJson: string): string => hash('sha256', `${prev}\n${eventJson}`, 'hex')

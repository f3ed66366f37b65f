/** Moved to src/wiring/faults.ts (issue 19): kept so that branches written before the move still merge. */
export * from '../wiring/faults'

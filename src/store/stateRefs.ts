/**
 * Live-item references over the temporal index's stored state text (`domain/stateText.ts`): the id,
 * type and folder read from the text's first fields, the full state decoded on first use. Shared by
 * the SQLite and PostgreSQL indexes.
 */
import type { ItemId } from '../../domain/ids'
import type { ItemState } from '../../domain/state'
import { type StateHead, parseStateText, readStateHead } from '../../domain/stateText'
import { type StoreError, StoreErrorRaised } from '../../projections/errors'
import type { LiveItemRef } from '../../projections/timeTravel'

export const corruptState = (reason: string): StoreError => ({ _tag: 'CorruptEvent', stream: 'item_versions', revision: -1, reason })

/** Decodes a stored state, raising a `CorruptEvent` store error if it cannot. */
export const decodeStateText = (text: string): ItemState => {
  const r = parseStateText(text)
  if (!r.ok) throw new StoreErrorRaised(corruptState(r.reason))
  return r.state
}

const notAState = (text: string, from: number): StoreErrorRaised => new StoreErrorRaised(corruptState(`not a stored item state: ${JSON.stringify(text.slice(from, from + 40))}`))

/** A reference to the stored state at [start, end) of `text`: a class, so that 50,000 of them are cheap. */
class TextRef implements LiveItemRef {
  readonly itemId: ItemId = 0 as ItemId
  readonly itemType: ItemState['itemType'] = 'message'
  readonly folderId: number = 0
  readonly #text: string
  readonly #start: number
  readonly #end: number
  #state: ItemState | undefined
  constructor(text: string, start: number, end: number) {
    if (!readStateHead(text, start, this as unknown as StateHead)) throw notAState(text, start)
    this.#text = text
    this.#start = start
    this.#end = end
  }
  state(): ItemState {
    return (this.#state ??= decodeStateText(this.#start === 0 && this.#end === this.#text.length ? this.#text : this.#text.slice(this.#start, this.#end)))
  }
}

/** A reference to the item a stored state describes; raises if the text does not start as a stored state. */
export const stateRef = (text: string): LiveItemRef => new TextRef(text, 0, text.length)

/**
 * References to each of the states in `joined`, separated by newlines (which stored state JSON only
 * holds escaped): the index reads one such string per tree node instead of one string per row.
 */
export const pushJoinedRefs = (joined: string, into: LiveItemRef[]): void => {
  for (let start = 0; start < joined.length; ) {
    const nl = joined.indexOf('\n', start)
    const end = nl < 0 ? joined.length : nl
    into.push(new TextRef(joined, start, end))
    start = end + 1
  }
}

const SLOTS = 2 ** 20

/**
 * References in item id order. Sorting 50,000 objects with a comparator took a fifth of an account
 * as-of; sorting numbers (id and position packed in one double, exact below 2^53) takes a tenth of that.
 */
export const sortRefs = (refs: readonly LiveItemRef[]): LiveItemRef[] => {
  const n = refs.length
  const keys = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const id = (refs[i] as LiveItemRef).itemId
    if (n >= SLOTS || id >= 2 ** 32) return [...refs].sort((a, b) => a.itemId - b.itemId)
    keys[i] = id * SLOTS + i
  }
  keys.sort()
  const out = new Array<LiveItemRef>(n)
  for (let i = 0; i < n; i++) out[i] = refs[(keys[i] as number) % SLOTS] as LiveItemRef
  return out
}

/** Every verb the CLI knows, in the order `--help` lists them. */
import type { Verb } from '../grammar'
import { demo } from './demo'
import { diffVerb, doItemSearch, getAccountInfo, getAccountState, getAvailableAccounts, getItem, rebuildIndex } from './inspect'

export const VERBS: readonly Verb[] = [getItem, getAccountState, doItemSearch, diffVerb, getAvailableAccounts, getAccountInfo, rebuildIndex, demo]
